using Gatehouse.Access.Users;
using Gatehouse.Storage;
using Gatehouse.Testing;
using Gatehouse.Tests.Pki;

namespace Gatehouse.Tests.Access.Users;

public sealed class UserServiceTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private Gatehouse.Cluster.ClusterState _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.OpenAsync(_dir.Path);
        await _cluster.Store.UpsertRolesAsync([new StoredRole("dev", "kind: role\nname: dev\n", DateTimeOffset.UtcNow)], CancellationToken.None);
    }

    [Fact]
    public async Task Added_user_keeps_a_hash_and_a_sealed_totp_secret_never_the_clear_values()
    {
        var outcome = await _cluster.Users.AddAsync("alice", ["dev"], new Dictionary<string, IReadOnlyList<string>> { ["logins"] = ["ubuntu"] },
            "correct horse battery staple", withTotp: true, CancellationToken.None);
        Assert.True(outcome.Ok, outcome.Message);
        Assert.StartsWith("otpauth://totp/", outcome.TotpUri);

        var stored = await _cluster.Store.GetUserAsync("alice", CancellationToken.None);
        Assert.NotNull(stored);
        Assert.True(PasswordHasher.Verify("correct horse battery staple", stored.PasswordHash));
        Assert.DoesNotContain("correct horse", stored.PasswordHash);
        var secret = _cluster.Users.OpenTotpSecret(stored)!;
        Assert.Contains(Totp.Base32(secret), outcome.TotpUri);
        Assert.False(stored.SealedTotpSecret!.AsSpan().IndexOf(secret) >= 0);
        Assert.Equal(["ubuntu"], stored.Traits["logins"]);
    }

    [Fact]
    public async Task Bad_names_short_passwords_missing_roles_and_duplicates_are_refused_with_reasons()
    {
        var noTraits = new Dictionary<string, IReadOnlyList<string>>();
        Assert.Contains("cannot be a user name", (await _cluster.Users.AddAsync("bad name", [], noTraits, null, false, CancellationToken.None)).Message);
        Assert.Contains("cannot be a user name", (await _cluster.Users.AddAsync("-rf", [], noTraits, null, false, CancellationToken.None)).Message);
        Assert.Contains("too short", (await _cluster.Users.AddAsync("bob", [], noTraits, "short", false, CancellationToken.None)).Message);
        var missing = await _cluster.Users.AddAsync("bob", ["dev", "admin"], noTraits, null, false, CancellationToken.None);
        Assert.False(missing.Ok);
        Assert.Contains("'admin'", missing.Message);
        Assert.Contains("roles apply", missing.Message);
        Assert.Null(await _cluster.Store.GetUserAsync("bob", CancellationToken.None));

        Assert.True((await _cluster.Users.AddAsync("bob", ["dev"], noTraits, null, false, CancellationToken.None)).Ok);
        Assert.Contains("exists already", (await _cluster.Users.AddAsync("bob", [], noTraits, null, false, CancellationToken.None)).Message);
    }

    [Fact]
    public async Task Lock_unlock_reset_and_remove()
    {
        var noTraits = new Dictionary<string, IReadOnlyList<string>>();
        await _cluster.Users.AddAsync("carol", [], noTraits, "a first long password", false, CancellationToken.None);
        Assert.NotNull(await _cluster.Store.TryReserveLoginAttemptAsync("carol", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 5, CancellationToken.None));

        Assert.True((await _cluster.Users.SetLockedAsync("carol", true, CancellationToken.None)).Ok);
        Assert.True((await _cluster.Store.GetUserAsync("carol", CancellationToken.None))!.Locked);
        Assert.True((await _cluster.Users.SetLockedAsync("carol", false, CancellationToken.None)).Ok);
        Assert.False((await _cluster.Store.GetUserAsync("carol", CancellationToken.None))!.Locked);
        Assert.Equal(0, await _cluster.Store.CountLoginFailuresAsync("carol", DateTimeOffset.UtcNow.AddHours(-1), CancellationToken.None));

        Assert.False((await _cluster.Users.ResetPasswordAsync("carol", "short", CancellationToken.None)).Ok);
        Assert.True((await _cluster.Users.ResetPasswordAsync("carol", "a second long password", CancellationToken.None)).Ok);
        Assert.True(PasswordHasher.Verify("a second long password", (await _cluster.Store.GetUserAsync("carol", CancellationToken.None))!.PasswordHash));

        Assert.True((await _cluster.Users.RemoveAsync("carol", CancellationToken.None)).Ok);
        Assert.Contains("there is no user", (await _cluster.Users.RemoveAsync("carol", CancellationToken.None)).Message);
        Assert.Contains("there is no user", (await _cluster.Users.SetLockedAsync("carol", true, CancellationToken.None)).Message);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _dir.Dispose();
    }
}
