using Gatehouse.Storage;

namespace Gatehouse.Tests.Storage;

/// <summary>Roles, audit, the change feed and migrations.</summary>
public abstract partial class StoreContractTests
{
    /// <summary>A guard so that a wait that never wakes fails the test instead of hanging it; not a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    // ---- roles ----

    [Fact]
    public async Task Roles_are_upserted_together_listed_by_name_and_deleted()
    {
        await using var store = await NewStoreAsync();
        await store.UpsertRolesAsync(
        [
            new StoredRole("dev", "name: dev\nallow: [ssh]\n", T0),
            new StoredRole("admin", "name: admin\n# ☃ kept as written\n", T0),
            new StoredRole("Zeta", "name: Zeta\n", T0),
        ], None);

        Assert.Equal(["Zeta", "admin", "dev"], (await store.ListRolesAsync(None)).Select(r => r.Name));
        Assert.Equal(new StoredRole("admin", "name: admin\n# ☃ kept as written\n", T0), await store.GetRoleAsync("admin", None));

        await store.UpsertRolesAsync([new StoredRole("dev", "name: dev\nallow: [ssh, kube]\n", T0.AddHours(1))], None);
        Assert.Equal(new StoredRole("dev", "name: dev\nallow: [ssh, kube]\n", T0.AddHours(1)), await store.GetRoleAsync("dev", None));
        Assert.Equal(3, (await store.ListRolesAsync(None)).Count);

        Assert.True(await store.DeleteRoleAsync("dev", None));
        Assert.False(await store.DeleteRoleAsync("dev", None));
        Assert.Null(await store.GetRoleAsync("dev", None));
        Assert.Equal(["Zeta", "admin"], (await store.ListRolesAsync(None)).Select(r => r.Name));
    }

    [Fact]
    public async Task A_file_of_roles_applies_whole_or_not_at_all()
    {
        await using var store = await NewStoreAsync();
        await store.UpsertRolesAsync([new StoredRole("dev", "old", T0)], None);
        var revision = await store.GetRevisionAsync(None);

        // The third role cannot be stored (no name): the first two must not be either.
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.UpsertRolesAsync(
            [new StoredRole("dev", "new", T0), new StoredRole("ops", "ops", T0), new StoredRole(null!, "broken", T0)], None));

        Assert.Equal([new StoredRole("dev", "old", T0)], await store.ListRolesAsync(None));
        Assert.Equal(revision, await store.GetRevisionAsync(None));
    }

    // ---- audit ----

    [Fact]
    public async Task Audit_events_get_increasing_ids_and_round_trip()
    {
        await using var store = await NewStoreAsync();
        var details = new Dictionary<string, string> { ["role"] = "admin", ["note"] = "ünïcødé ☃", ["empty"] = "" };
        var first = await store.AppendAuditAsync(Audit("user.login", "alice", T0, details), None);
        var second = await store.AppendAuditAsync(new AuditEvent(0, T0.AddSeconds(1), "cert.issue", null, null, null, null, null, null, null, null, null, null), None);
        Assert.True(second > first);

        var events = await store.QueryAuditAsync(new AuditQuery(), None);
        Assert.Equal([second, first], events.Select(e => e.Id));
        var login = events[1];
        Assert.Equal(Audit("user.login", "alice", T0) with { Id = first, Details = login.Details }, login);
        Assert.Equal(details.OrderBy(p => p.Key), login.Details!.OrderBy(p => p.Key));
        Assert.Equal(new AuditEvent(second, T0.AddSeconds(1), "cert.issue", null, null, null, null, null, null, null, null, null, null), events[0]);
    }

    [Fact]
    public async Task A_batch_of_audit_events_is_written_in_order_in_one_commit()
    {
        await using var store = await NewStoreAsync();
        var before = await store.AppendAuditAsync(Audit("user.login", "alice", T0), None);
        IReadOnlyList<AuditEvent> batch = [.. Enumerable.Range(1, 300).Select(i => Audit("db.query", "alice", T0.AddSeconds(i),
            new Dictionary<string, string> { ["query"] = $"select {i}" }))];

        var ids = await store.AppendAuditBatchAsync(batch, None);

        Assert.Equal(300, ids.Count);
        Assert.True(ids[0] > before);
        Assert.Equal(ids.Order(), ids);
        var written = await store.QueryAuditAsync(new AuditQuery(Type: "db.query"), None);
        Assert.Equal(ids.Reverse(), written.Select(e => e.Id));
        Assert.Equal("select 300", written[0].Details!["query"]);
    }

    [Fact]
    public async Task Each_event_of_a_batch_keeps_its_own_values_and_no_other()
    {
        // The batch binds one set of parameters again for each event: a value (or a null) of one row must not reach the next.
        await using var store = await NewStoreAsync();
        IReadOnlyList<AuditEvent> batch = [.. Enumerable.Range(0, 9).Select(i => (i % 3) switch
        {
            0 => new AuditEvent(0, T0.AddSeconds(i), "db.query", null, null, null, null, null, null, null, null, null, null),
            1 => Audit("db.query", "alice", T0.AddSeconds(i), new Dictionary<string, string>
            {
                ["query"] = $"select '\"quoted\"', '<b>&</b>', 'ünï ☃ 𝄞', e'\\t\t\n{i}'", ["truncated"] = "true", ["empty"] = "",
            }) with { Resource = "db/bench", Decision = "allowed", SourceIp = "127.0.0.1" },
            _ => Audit("db.query", "bob", T0.AddSeconds(i), new Dictionary<string, string> { ["query"] = $"select {i}" }) with { Reason = "r" },
        })];

        var ids = await store.AppendAuditBatchAsync(batch, None);

        var written = (await store.QueryAuditAsync(new AuditQuery(Type: "db.query"), None)).Reverse().ToList();
        Assert.Equal(ids, written.Select(e => e.Id));
        for (var i = 0; i < batch.Count; i++)
        {
            Assert.Equal(batch[i] with { Id = ids[i], Details = written[i].Details }, written[i]);
            Assert.Equal(batch[i].Details?.OrderBy(p => p.Key), written[i].Details?.OrderBy(p => p.Key));
        }
    }

    [Fact]
    public async Task Audit_queries_filter_newest_first()
    {
        await using var store = await NewStoreAsync();
        var ids = new List<long>
        {
            await store.AppendAuditAsync(Audit("user.login", "alice", T0), None),
            await store.AppendAuditAsync(Audit("access.decision", "alice", T0.AddMinutes(1)), None),
            await store.AppendAuditAsync(Audit("user.login", "bob", T0.AddMinutes(2)), None),
            await store.AppendAuditAsync(Audit("user.login", "alice", T0.AddMinutes(3)), None),
        };

        async Task<IEnumerable<long>> Query(AuditQuery q) => (await store.QueryAuditAsync(q, None)).Select(e => e.Id);
        Assert.Equal([ids[3], ids[2], ids[1], ids[0]], await Query(new AuditQuery()));
        Assert.Equal([ids[3], ids[2], ids[1]], await Query(new AuditQuery(Since: T0.AddMinutes(1)))); // inclusive
        Assert.Equal([ids[3], ids[2], ids[0]], await Query(new AuditQuery(Type: "user.login")));
        Assert.Equal([ids[3], ids[1], ids[0]], await Query(new AuditQuery(User: "alice")));
        Assert.Equal([ids[3], ids[0]], await Query(new AuditQuery(Type: "user.login", User: "alice")));
        Assert.Equal([ids[3]], await Query(new AuditQuery(Since: T0.AddMinutes(1), Type: "user.login", User: "alice")));
        Assert.Equal([ids[3], ids[2]], await Query(new AuditQuery(Limit: 2)));
        Assert.Empty(await Query(new AuditQuery(User: "carol")));
    }

    // ---- change feed ----

    [Fact]
    public async Task The_revision_rises_with_each_change_a_proxy_caches_and_only_then()
    {
        await using var store = await NewStoreAsync();
        var last = await store.GetRevisionAsync(None);

        async Task Rises(Func<Task> change, string what)
        {
            await change();
            var now = await store.GetRevisionAsync(None);
            Assert.True(now > last, $"the revision did not rise after {what}");
            last = now;
        }

        async Task Stays(Func<Task> change, string what)
        {
            await change();
            Assert.True(await store.GetRevisionAsync(None) == last, $"the revision rose after {what}");
        }

        await Rises(() => store.AddAuthorityIfAbsentAsync(Authority("user", "a"), None).AsTask(), "adding an authority");
        await Stays(() => store.AddAuthorityIfAbsentAsync(Authority("user", "b"), None).AsTask(), "adding an authority that exists");
        await Stays(() => store.RecordIssuedAsync(new IssuedCertificate("01", "user", "user-tls", "CN=a", T0, T0.AddHours(1), T0), None).AsTask(), "recording an issued certificate");
        await Rises(() => store.RevokeAsync(new StoredRevocation("01", "user", 1, T0), None).AsTask(), "a revocation");
        await Stays(() => store.RevokeAsync(new StoredRevocation("01", "user", 1, T0), None).AsTask(), "revoking again");
        await Stays(() => store.NextCrlNumberAsync("user", None).AsTask(), "reserving a CRL number");
        await Rises(() => store.AddUserAsync(User("alice"), None).AsTask(), "adding a user");
        await Stays(() => store.AddUserAsync(User("alice"), None).AsTask(), "adding a user that exists");
        await Rises(() => store.UpdateUserAsync(User("alice") with { Locked = true }, None).AsTask(), "updating a user");
        await Stays(() => store.UpdateUserAsync(User("nobody"), None).AsTask(), "updating a missing user");
        await Stays(() => FailedLoginAsync(store, "alice", T0), "a login failure");
        await Rises(() => store.DeleteUserAsync("alice", None).AsTask(), "deleting a user");
        await Rises(() => store.UpsertRolesAsync([new StoredRole("dev", "d", T0)], None).AsTask(), "upserting roles");
        await Stays(() => store.UpsertRolesAsync([], None).AsTask(), "upserting no roles");
        await Rises(() => store.DeleteRoleAsync("dev", None).AsTask(), "deleting a role");
        await Stays(() => store.DeleteRoleAsync("dev", None).AsTask(), "deleting a missing role");
        await Stays(() => store.AppendAuditAsync(Audit("user.login", "alice", T0), None).AsTask(), "an audit event");
    }

    [Fact]
    public async Task WaitForChange_wakes_after_a_change()
    {
        await using var store = await NewStoreAsync();
        var known = await store.GetRevisionAsync(None);

        var wait = store.WaitForChangeAsync(known, TimeSpan.FromMinutes(10), None).AsTask();
        await store.AddUserAsync(User("alice"), None);

        var seen = await wait.WaitAsync(Hang);
        Assert.NotEqual(known, seen);
        Assert.Equal(await store.GetRevisionAsync(None), seen);
    }

    [Fact]
    public async Task WaitForChange_returns_the_same_revision_after_the_timeout_without_a_change()
    {
        await using var store = await NewStoreAsync();
        var known = await store.GetRevisionAsync(None);

        Assert.Equal(known, await store.WaitForChangeAsync(known, TimeSpan.FromMilliseconds(300), None).AsTask().WaitAsync(Hang));
        // A revision the caller does not know yet is returned at once.
        Assert.Equal(known, await store.WaitForChangeAsync(known - 1, TimeSpan.FromMinutes(10), None).AsTask().WaitAsync(Hang));
    }

    // ---- migrations ----

    [Fact]
    public async Task Opening_a_store_again_keeps_its_data()
    {
        var location = await NewLocationAsync();
        await using (var first = await OpenAsync(location))
            await first.AddUserAsync(User("alice"), None);

        await using var second = await OpenAsync(location);
        Assert.NotNull(await second.GetUserAsync("alice", None));
    }

    [Fact]
    public async Task Two_proxies_opening_a_new_store_at_once_both_succeed()
    {
        var location = await NewLocationAsync();
        var stores = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => OpenAsync(location))));
        try
        {
            Assert.True(await stores[0].AddUserAsync(User("alice"), None));
            Assert.NotNull(await stores[1].GetUserAsync("alice", None));
        }
        finally
        {
            foreach (var store in stores) await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_schema_newer_than_this_build_is_refused()
    {
        var location = await NewLocationAsync();
        await (await OpenAsync(location)).DisposeAsync();
        await ExecuteSqlAsync(location, "INSERT INTO schema_migrations (version, applied_at) VALUES (99, '2030-01-01T00:00:00Z')");

        var e = await Assert.ThrowsAsync<SetupException>(() => OpenAsync(location));
        Assert.Contains("schema version 99", e.Message);
        Assert.Contains("run a newer Gatehouse", e.Message);
    }

    [Fact]
    public async Task A_new_store_gets_the_schema_that_earlier_versions_made()
    {
        // Stores made by earlier versions are opened, not rebuilt: a schema step that has run must never change what it
        // makes. A new schema version changes this fingerprint on purpose; then pin the new one here.
        var location = await NewLocationAsync();
        await (await OpenAsync(location)).DisposeAsync();

        var schema = string.Join("\n", await QueryLinesAsync(location, SchemaQuery));

        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(schema)));
        Assert.True(sha256 == SchemaVersion4Sha256, $"the schema differs from version 4's (sha256 {sha256}):\n{schema}");
    }

    private protected static async Task<List<string>> ReadLinesAsync(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return lines;
    }
}
