using Gatehouse.Storage;

namespace Gatehouse.Tests.Storage;

/// <summary>What logins keep in the store: one-time codes used (issue 11).</summary>
public abstract partial class StoreContractTests
{
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
