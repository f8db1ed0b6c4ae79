using Gatehouse.Access;
using Gatehouse.Storage;
using Gatehouse.Storage.Sqlite;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Access;

/// <summary>The catalog reuses an identity's checker only while the roles it was built from are the store's current ones.</summary>
public sealed class RoleCatalogTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Labels = new() { ["env"] = "prod" };
    private readonly TempDirectory _dir = new();
    private SqliteStore _store = null!;

    public async Task InitializeAsync() => _store = await SqliteStore.OpenAsync(Path.Combine(_dir.Path, SqliteStore.FileName), CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_role_changed_in_the_store_applies_to_the_next_check_of_the_same_identity()
    {
        var catalog = new RoleCatalog(_store);
        var alice = new Gatehouse.Identity.Identity { User = "alice", Cluster = "test", Roles = ["dev"] };
        await ApplyAsync("kind: role\nname: dev\nallow:\n  app_labels: { env: prod }\n");

        var first = await catalog.CheckerForAsync(alice, CancellationToken.None);
        Assert.True(first.CheckApp("web", Labels).Allowed);
        Assert.Same(first, await catalog.CheckerForAsync(alice, CancellationToken.None)); // nothing changed: built once

        // Another process (an admin command) narrows the role: the very next check of the same identity sees it.
        await ApplyAsync("kind: role\nname: dev\nallow:\n  app_labels: { env: staging }\n");
        Assert.False((await catalog.CheckerForAsync(alice, CancellationToken.None)).CheckApp("web", Labels).Allowed);

        // Removed altogether: it grants nothing.
        await ApplyAsync("kind: role\nname: dev\nallow:\n  app_labels: { env: prod }\n");
        Assert.True((await catalog.CheckerForAsync(alice, CancellationToken.None)).CheckApp("web", Labels).Allowed);
        Assert.True(await _store.DeleteRoleAsync("dev", CancellationToken.None));
        Assert.False((await catalog.CheckerForAsync(alice, CancellationToken.None)).CheckApp("web", Labels).Allowed);

        // Another identity with other traits never gets alice's checker.
        await ApplyAsync("kind: role\nname: dev\nallow:\n  app_labels: { env: prod }\n");
        var bob = alice with { User = "bob", Roles = [] };
        Assert.False((await catalog.CheckerForAsync(bob, CancellationToken.None)).CheckApp("web", Labels).Allowed);
    }

    [Fact]
    public async Task A_role_changed_through_another_store_on_the_same_file_applies_to_the_next_check()
    {
        // The admin command opens the database on its own: its commit must be seen by the proxy's very next read, even
        // though the proxy reads the revision on a connection it keeps open with the statement prepared.
        var catalog = new RoleCatalog(_store);
        var alice = new Gatehouse.Identity.Identity { User = "alice", Cluster = "test", Roles = ["dev"] };
        await ApplyAsync("kind: role\nname: dev\nallow:\n  app_labels: { env: prod }\n");
        Assert.True((await catalog.CheckerForAsync(alice, CancellationToken.None)).CheckApp("web", Labels).Allowed);

        await using var admin = await SqliteStore.OpenAsync(Path.Combine(_dir.Path, SqliteStore.FileName), CancellationToken.None);
        for (var round = 0; round < 20; round++)
        {
            var env = round % 2 == 0 ? "staging" : "prod";
            await admin.UpsertRolesAsync([new StoredRole("dev", $"kind: role\nname: dev\nallow:\n  app_labels: {{ env: {env} }}\n",
                DateTimeOffset.UtcNow)], CancellationToken.None);
            Assert.Equal(env == "prod", (await catalog.CheckerForAsync(alice, CancellationToken.None)).CheckApp("web", Labels).Allowed);
        }
    }

    private Task ApplyAsync(string yaml) =>
        _store.UpsertRolesAsync([new StoredRole("dev", yaml, DateTimeOffset.UtcNow)], CancellationToken.None).AsTask();
}
