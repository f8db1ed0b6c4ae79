using Gatehouse.Storage;

namespace Gatehouse.Tests.Storage;

/// <summary>What logins keep in the store: attempts counted from their start, one-time codes used (issue 11).</summary>
public abstract partial class StoreContractTests
{
    /// <summary>A finished wrong guess at <paramref name="at"/>.</summary>
    private static async Task FailedLoginAsync(IStore store, string user, DateTimeOffset at)
    {
        var attempt = await store.TryReserveLoginAttemptAsync(user, at, at, int.MaxValue, None);
        await store.SettleLoginAttemptAsync(user, attempt!, LoginAttemptOutcome.Failed, None);
    }

    [Fact]
    public async Task Attempts_in_progress_count_toward_the_limit_and_are_settled_as_their_answers_say()
    {
        await using var store = await NewStoreAsync();
        var since = T0.AddMinutes(-15);
        await FailedLoginAsync(store, "alice", T0.AddMinutes(-20)); // before the window: not counted
        await FailedLoginAsync(store, "alice", T0.AddMinutes(-1));

        var first = await store.TryReserveLoginAttemptAsync("alice", T0, since, 3, None);
        var second = await store.TryReserveLoginAttemptAsync("alice", T0, since, 3, None);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotEqual(first, second);
        Assert.Null(await store.TryReserveLoginAttemptAsync("alice", T0, since, 3, None)); // 1 failure + 2 in progress
        Assert.NotNull(await store.TryReserveLoginAttemptAsync("bob", T0, since, 3, None));

        // Released: no longer counted. Failed: stays counted.
        await store.SettleLoginAttemptAsync("alice", first!, LoginAttemptOutcome.Released, None);
        Assert.Equal(2, await store.CountLoginFailuresAsync("alice", since, None));
        await store.SettleLoginAttemptAsync("alice", second!, LoginAttemptOutcome.Failed, None);
        Assert.Equal(2, await store.CountLoginFailuresAsync("alice", since, None));

        // Succeeded: the user's failures are forgotten, but not another attempt still in progress.
        var pending = await store.TryReserveLoginAttemptAsync("alice", T0, since, 4, None);
        var winner = await store.TryReserveLoginAttemptAsync("alice", T0, since, 4, None);
        await store.SettleLoginAttemptAsync("alice", winner!, LoginAttemptOutcome.Succeeded, None);
        Assert.Equal(1, await store.CountLoginFailuresAsync("alice", since, None));
        await store.SettleLoginAttemptAsync("alice", pending!, LoginAttemptOutcome.Failed, None);
        Assert.Equal(1, await store.CountLoginFailuresAsync("alice", since, None));
        Assert.Equal(1, await store.CountLoginFailuresAsync("bob", since, None));
    }

    [Fact]
    public async Task Concurrent_reservations_never_exceed_the_limit()
    {
        var location = await NewLocationAsync();
        await using var a = await OpenAsync(location);
        await using var b = await OpenAsync(location); // two proxies on one database

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(async () => await (i % 2 == 0 ? a : b).TryReserveLoginAttemptAsync("alice", T0, T0.AddMinutes(-15), 5, None))));

        Assert.Equal(5, results.Count(r => r is not null));
        Assert.Equal(5, await a.CountLoginFailuresAsync("alice", T0.AddMinutes(-15), None));
    }

    [Fact]
    public async Task A_totp_step_is_used_once_per_user()
    {
        await using var store = await NewStoreAsync();

        Assert.True(await store.TryUseTotpStepAsync("alice", 1000, forgetBefore: 900, None));
        Assert.False(await store.TryUseTotpStepAsync("alice", 1000, forgetBefore: 900, None));
        Assert.True(await store.TryUseTotpStepAsync("alice", 1001, forgetBefore: 900, None));
        Assert.True(await store.TryUseTotpStepAsync("bob", 1000, forgetBefore: 900, None));
    }

    [Fact]
    public async Task Concurrent_uses_of_one_totp_step_let_exactly_one_through()
    {
        await using var store = await NewStoreAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(async () => await store.TryUseTotpStepAsync("alice", 1000, forgetBefore: 900, None))));

        Assert.Single(results, used => used);
    }

    [Fact]
    public async Task Two_stores_on_one_database_share_the_used_totp_steps()
    {
        var location = await NewLocationAsync();
        await using var a = await OpenAsync(location);
        await using var b = await OpenAsync(location);

        Assert.True(await a.TryUseTotpStepAsync("alice", 1000, forgetBefore: 900, None));
        Assert.False(await b.TryUseTotpStepAsync("alice", 1000, forgetBefore: 900, None));
    }

    [Fact]
    public async Task Old_totp_steps_are_forgotten_and_a_removed_user_leaves_none_behind()
    {
        await using var store = await NewStoreAsync();
        await store.TryUseTotpStepAsync("alice", 1000, forgetBefore: 900, None);

        // Step 1000 is before 1001: forgotten while step 2000 is used, so it could be used again (it never would be: too old).
        Assert.True(await store.TryUseTotpStepAsync("alice", 2000, forgetBefore: 1001, None));
        Assert.True(await store.TryUseTotpStepAsync("alice", 1000, forgetBefore: 900, None));

        await store.AddUserAsync(User("carol"), None);
        await store.TryUseTotpStepAsync("carol", 2000, forgetBefore: 900, None);
        Assert.True(await store.DeleteUserAsync("carol", None));
        Assert.True(await store.TryUseTotpStepAsync("carol", 2000, forgetBefore: 900, None));
    }
}
