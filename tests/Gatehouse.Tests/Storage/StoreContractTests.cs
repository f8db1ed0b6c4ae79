using Gatehouse.Storage;
using Gatehouse.Storage.Sqlite;
using Gatehouse.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gatehouse.Tests.Storage;

/// <summary>
/// What every <see cref="IStore"/> must do, run against each implementation. Times are whole microseconds:
/// PostgreSQL's timestamptz keeps no finer, SQLite keeps .NET ticks.
/// </summary>
public abstract partial class StoreContractTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 30, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A place for a store nobody else uses (a file path, a connection string).</summary>
    private protected abstract Task<string> NewLocationAsync();

    private protected abstract Task<IStore> OpenAsync(string location);

    /// <summary>Runs SQL against the store's database behind its back (to fake a newer schema).</summary>
    private protected abstract Task ExecuteSqlAsync(string location, string sql);

    /// <summary>Runs a query behind the store's back; the first column of every row, as text.</summary>
    private protected abstract Task<List<string>> QueryLinesAsync(string location, string sql);

    /// <summary>A query that lists the schema (tables, columns, indexes, constraints) in a fixed order, one item a row.</summary>
    private protected abstract string SchemaQuery { get; }

    /// <summary>SHA-256 of <see cref="SchemaQuery"/>'s rows joined by newlines, on a store made by the Gatehouse that first
    /// shipped schema version 4.</summary>
    private protected abstract string SchemaVersion4Sha256 { get; }

    private protected async Task<IStore> NewStoreAsync() => await OpenAsync(await NewLocationAsync());

    private static StoredAuthority Authority(string kind, string tag) =>
        new(kind, "ecdsa", $"-----BEGIN CERTIFICATE-----{tag}", [1, 2, 3, (byte)tag.Length], T0);

    private static StoredUser User(string name) => new(name, ["admin", "dev"],
        new Dictionary<string, IReadOnlyList<string>> { ["logins"] = ["root", "ubuntu"], ["team"] = ["Équipe ☃"] },
        "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", [0, 255, 7, 42], Locked: false, T0, T0);

    private static AuditEvent Audit(string type, string? user, DateTimeOffset time, IReadOnlyDictionary<string, string>? details = null) =>
        new(0, time, type, user, "handshake", "CN=Gatehouse User CA", "0A1B", "ab12", "192.0.2.7", "/v1/ping", "allowed", "role admin", details);

    // ---- authorities ----

    [Fact]
    public async Task AddAuthorityIfAbsent_keeps_the_first_and_returns_it()
    {
        await using var store = await NewStoreAsync();
        Assert.Null(await store.GetAuthorityAsync("user", None));

        var first = await store.AddAuthorityIfAbsentAsync(Authority("user", "first"), None);
        var second = await store.AddAuthorityIfAbsentAsync(Authority("user", "second-one"), None);
        var host = await store.AddAuthorityIfAbsentAsync(Authority("host", "host"), None);

        AssertSameAuthority(Authority("user", "first"), first);
        AssertSameAuthority(Authority("user", "first"), second);
        AssertSameAuthority(Authority("user", "first"), (await store.GetAuthorityAsync("user", None))!);
        AssertSameAuthority(Authority("host", "host"), host);
    }

    [Fact]
    public async Task Concurrent_first_starts_all_get_the_same_authority()
    {
        await using var store = await NewStoreAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(async () => await store.AddAuthorityIfAbsentAsync(Authority("user", $"candidate-{i}"), None))));

        var stored = (await store.GetAuthorityAsync("user", None))!;
        Assert.All(results, r => AssertSameAuthority(stored, r));
    }

    private static void AssertSameAuthority(StoredAuthority expected, StoredAuthority actual)
    {
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.KeyFamily, actual.KeyFamily);
        Assert.Equal(expected.PublicPart, actual.PublicPart);
        Assert.Equal(expected.SealedPrivateKey, actual.SealedPrivateKey);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
    }

    // ---- certificate ledger ----

    [Fact]
    public async Task Issued_certificates_are_found_by_serial()
    {
        await using var store = await NewStoreAsync();
        // A non-UTC offset: the store keeps the instant (and answers in UTC).
        var issued = new IssuedCertificate("0A1B2C", "user", "user-tls", "CN=alice, O=Ünïcode",
            T0, T0.AddHours(8), new DateTimeOffset(2026, 11, 21, 11, 30, 0, TimeSpan.FromHours(2)));
        await store.RecordIssuedAsync(issued, None);

        var found = (await store.FindIssuedAsync("0A1B2C", None))!;
        Assert.Equal(issued, found); // DateTimeOffset equality compares instants
        Assert.Equal(TimeSpan.Zero, found.IssuedAt.Offset);
        Assert.Null(await store.FindIssuedAsync("FFFF", None));
    }

    [Fact]
    public async Task Revoke_is_idempotent_and_keeps_the_first_record()
    {
        await using var store = await NewStoreAsync();
        Assert.Equal(RevokeOutcome.Revoked, await store.RevokeAsync(new StoredRevocation("0A", "user", 1, T0), None));
        Assert.Equal(RevokeOutcome.AlreadyRevoked, await store.RevokeAsync(new StoredRevocation("0A", "user", 4, T0.AddMinutes(1)), None));

        var revoked = Assert.Single(await store.ListRevocationsAsync("user", None));
        Assert.Equal(new StoredRevocation("0A", "user", 1, T0), revoked);
    }

    [Fact]
    public async Task Revocations_are_listed_per_authority_oldest_first()
    {
        await using var store = await NewStoreAsync();
        await store.RevokeAsync(new StoredRevocation("0C", "user", 0, T0.AddMinutes(2)), None);
        await store.RevokeAsync(new StoredRevocation("0B", "user", 1, T0), None);
        await store.RevokeAsync(new StoredRevocation("0A", "user", 1, T0), None);
        await store.RevokeAsync(new StoredRevocation("0D", "host", 5, T0), None);

        Assert.Equal(["0A", "0B", "0C"], (await store.ListRevocationsAsync("user", None)).Select(r => r.Serial));
        Assert.Equal(["0D"], (await store.ListRevocationsAsync("host", None)).Select(r => r.Serial));
        Assert.Empty(await store.ListRevocationsAsync("ssh-user", None));
    }

    [Fact]
    public async Task Crl_numbers_count_up_per_authority()
    {
        await using var store = await NewStoreAsync();
        Assert.Equal(1, await store.NextCrlNumberAsync("user", None));
        Assert.Equal(2, await store.NextCrlNumberAsync("user", None));
        Assert.Equal(1, await store.NextCrlNumberAsync("host", None));
        Assert.Equal(3, await store.NextCrlNumberAsync("user", None));
    }

    [Fact]
    public async Task Concurrent_crl_numbers_are_distinct_and_consecutive()
    {
        await using var store = await NewStoreAsync();
        var numbers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
            Task.Run(async () => await store.NextCrlNumberAsync("user", None))));

        Assert.Equal(Enumerable.Range(1, 16).Select(n => (long)n), numbers.Order());
        Assert.Equal(17, await store.NextCrlNumberAsync("user", None));
    }

    // ---- users ----

    [Fact]
    public async Task A_user_round_trips_every_field()
    {
        await using var store = await NewStoreAsync();
        var alice = User("alice") with { Name = "alïce-☃" };
        Assert.True(await store.AddUserAsync(alice, None));

        AssertSameUser(alice, (await store.GetUserAsync("alïce-☃", None))!);
        Assert.Null(await store.GetUserAsync("alice", None));

        var bare = User("bob") with { Roles = [], Traits = new Dictionary<string, IReadOnlyList<string>>(), PasswordHash = null, SealedTotpSecret = null, Locked = true };
        Assert.True(await store.AddUserAsync(bare, None));
        AssertSameUser(bare, (await store.GetUserAsync("bob", None))!);
    }

    [Fact]
    public async Task Adding_a_user_twice_changes_nothing()
    {
        await using var store = await NewStoreAsync();
        Assert.True(await store.AddUserAsync(User("alice"), None));
        Assert.False(await store.AddUserAsync(User("alice") with { Roles = ["other"], Locked = true }, None));

        AssertSameUser(User("alice"), (await store.GetUserAsync("alice", None))!);
    }

    [Fact]
    public async Task Update_replaces_the_record_but_not_the_creation_time()
    {
        await using var store = await NewStoreAsync();
        Assert.False(await store.UpdateUserAsync(User("ghost"), None));
        Assert.Null(await store.GetUserAsync("ghost", None));

        await store.AddUserAsync(User("alice"), None);
        var changed = User("alice") with
        {
            Roles = ["auditor"],
            Traits = new Dictionary<string, IReadOnlyList<string>> { ["kube_groups"] = ["view", "日本語"] },
            PasswordHash = null,
            SealedTotpSecret = [9, 9, 9],
            Locked = true,
            CreatedAt = T0.AddDays(5),
            UpdatedAt = T0.AddHours(1),
        };
        Assert.True(await store.UpdateUserAsync(changed, None));

        AssertSameUser(changed with { CreatedAt = T0 }, (await store.GetUserAsync("alice", None))!);
    }

    [Fact]
    public async Task Users_are_listed_by_name()
    {
        await using var store = await NewStoreAsync();
        foreach (var name in new[] { "carol", "Bob", "alice" })
            await store.AddUserAsync(User(name), None);

        Assert.Equal(["Bob", "alice", "carol"], (await store.ListUsersAsync(None)).Select(u => u.Name)); // ordinal order
    }

    [Fact]
    public async Task Deleting_a_user_clears_their_login_failures()
    {
        await using var store = await NewStoreAsync();
        await store.AddUserAsync(User("alice"), None);
        await FailedLoginAsync(store, "alice", T0);

        Assert.True(await store.DeleteUserAsync("alice", None));
        Assert.Null(await store.GetUserAsync("alice", None));
        Assert.Equal(0, await store.CountLoginFailuresAsync("alice", T0.AddDays(-1), None));
        Assert.False(await store.DeleteUserAsync("alice", None));
    }

    [Fact]
    public async Task Deleting_a_missing_user_is_false_even_with_failures_recorded_under_that_name()
    {
        await using var store = await NewStoreAsync();
        // Failed logins are counted for names that do not exist too (so guessing names is throttled).
        await FailedLoginAsync(store, "nobody", T0);
        var revision = await store.GetRevisionAsync(None);

        Assert.False(await store.DeleteUserAsync("nobody", None));
        Assert.Equal(revision, await store.GetRevisionAsync(None));
    }

    [Fact]
    public async Task Login_failures_are_counted_since_a_time()
    {
        await using var store = await NewStoreAsync();
        await FailedLoginAsync(store, "alice", T0.AddMinutes(-10));
        await FailedLoginAsync(store, "alice", T0.AddMinutes(-5));
        await FailedLoginAsync(store, "alice", T0.AddMinutes(-1));
        await FailedLoginAsync(store, "bob", T0.AddMinutes(-1));

        Assert.Equal(2, await store.CountLoginFailuresAsync("alice", T0.AddMinutes(-5), None)); // inclusive
        Assert.Equal(3, await store.CountLoginFailuresAsync("alice", T0.AddHours(-1), None));
        Assert.Equal(0, await store.CountLoginFailuresAsync("alice", T0, None));
        Assert.Equal(0, await store.CountLoginFailuresAsync("carol", T0.AddHours(-1), None));

        await store.ClearLoginFailuresAsync("alice", None);
        Assert.Equal(0, await store.CountLoginFailuresAsync("alice", T0.AddHours(-1), None));
        Assert.Equal(1, await store.CountLoginFailuresAsync("bob", T0.AddHours(-1), None));
    }

    private static void AssertSameUser(StoredUser expected, StoredUser actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Roles, actual.Roles);
        // jsonb does not keep key order; the traits are a map, so compare them as one.
        Assert.Equal(expected.Traits.Keys.Order(StringComparer.Ordinal), actual.Traits.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, values) in expected.Traits)
            Assert.Equal(values, actual.Traits[key]);
        Assert.Equal(expected.PasswordHash, actual.PasswordHash);
        Assert.Equal(expected.SealedTotpSecret, actual.SealedTotpSecret);
        Assert.Equal(expected.Locked, actual.Locked);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.UpdatedAt, actual.UpdatedAt);
    }
}

/// <summary>The contract on the embedded store: a fresh file per test.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests, IDisposable
{
    private readonly TempDirectory _dir = new();

    private protected override Task<string> NewLocationAsync() =>
        Task.FromResult(_dir.File($"{Guid.NewGuid():N}.db"));

    private protected override async Task<IStore> OpenAsync(string location) => await SqliteStore.OpenAsync(location, CancellationToken.None);

    private protected override async Task ExecuteSqlAsync(string location, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={location};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private protected override async Task<List<string>> QueryLinesAsync(string location, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={location};Pooling=false");
        await connection.OpenAsync();
        return await ReadLinesAsync(connection, sql);
    }

    private protected override string SchemaQuery =>
        "SELECT type || ' ' || name || ': ' || sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name";

    private protected override string SchemaVersion4Sha256 => "3888e664661909764950d06ad1de39707cffb34935b833a477fc75aa4692063e";

    public void Dispose() => _dir.Dispose();
}

/// <summary>The contract on a real PostgreSQL server (one per class): a fresh database per test.</summary>
public sealed partial class PostgresStoreContractTests(PostgresServerFixture fixture) : StoreContractTests, IClassFixture<PostgresServerFixture>
{
    private PostgresServer Server => fixture.Server;

    private protected override Task<string> NewLocationAsync() => Server.CreateDatabaseAsync(PostgresServer.NewDatabaseName());

    private protected override async Task<IStore> OpenAsync(string location) =>
        await Gatehouse.Storage.Postgres.PostgresStore.OpenAsync(location, onRetry: null, CancellationToken.None);

    private protected override async Task ExecuteSqlAsync(string location, string sql)
    {
        await using var connection = new NpgsqlConnection(location);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private protected override async Task<List<string>> QueryLinesAsync(string location, string sql)
    {
        await using var connection = new NpgsqlConnection(location);
        await connection.OpenAsync();
        return await ReadLinesAsync(connection, sql);
    }

    private protected override string SchemaQuery => """
        SELECT line FROM (
            SELECT format('column %s.%s %s null=%s default=%s identity=%s', table_name, column_name, data_type, is_nullable,
                coalesce(column_default, '-'), coalesce(identity_generation, '-')) AS line
            FROM information_schema.columns WHERE table_schema = current_schema()
            UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
            UNION ALL SELECT format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace) lines
        ORDER BY line COLLATE "C"
        """;

    private protected override string SchemaVersion4Sha256 => "072de55316e62f6b3daa7fe8b81de9b2ede890a2cd566839294ca07474edab8b";
}
