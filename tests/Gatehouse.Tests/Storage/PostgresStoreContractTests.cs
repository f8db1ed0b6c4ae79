using System.Globalization;
using Gatehouse.Storage;
using Gatehouse.Storage.Postgres;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Storage;

/// <summary>What only the shared store does: several proxies on one database, a server that is not up, passwords.</summary>
public sealed partial class PostgresStoreContractTests
{
    private static readonly PostgresRetry ShortRetry = new(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1));

    [Fact]
    public async Task A_revocation_by_one_proxy_reaches_another_within_five_seconds()
    {
        var location = await NewLocationAsync();
        await using var a = await OpenAsync(location);
        await using var b = await OpenAsync(location);
        var known = await b.GetRevisionAsync(CancellationToken.None);

        var wait = b.WaitForChangeAsync(known, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        await a.RevokeAsync(new StoredRevocation("7F3A", "user", 1, DateTimeOffset.UtcNow), CancellationToken.None);
        var seen = await wait;

        // WaitForChange returns the revision it had at the 5 s deadline at the latest: a new one means B saw it in time.
        Assert.NotEqual(known, seen);
        Assert.Contains("7F3A", (await b.ListRevocationsAsync("user", CancellationToken.None)).Select(r => r.Serial));
    }

    [Fact]
    public async Task A_server_that_is_down_is_retried_then_reported()
    {
        var port = Peer.FreePort();
        var connectionString = $"Host=127.0.0.1;Port={port};Database=gatehouse;Username=gatehouse;Password=Down-Secret-42";
        var retries = new List<string>();

        var e = await Assert.ThrowsAsync<SetupException>(() => PostgresStore.OpenAsync(connectionString, ShortRetry, retries.Add, CancellationToken.None));

        Assert.NotEmpty(retries);
        Assert.All(retries, line =>
        {
            Assert.StartsWith($"PostgreSQL at 127.0.0.1:{port} is not reachable (", line);
            Assert.Contains("; retrying in ", line);
        });
        Assert.Contains($"127.0.0.1:{port}/gatehouse", e.Message);
        Assert.Contains("storage.connection_string", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("Down-Secret-42", e.Message + string.Concat(retries));
    }

    [Fact]
    public async Task A_wrong_password_is_refused_at_once_without_echoing_it()
    {
        var location = await NewLocationAsync();
        var wrong = Server.ConnectionString(new Npgsql.NpgsqlConnectionStringBuilder(location).Database!, password: "Wrong-Secret-17");
        var retries = new List<string>();

        var e = await Assert.ThrowsAsync<SetupException>(() => PostgresStore.OpenAsync(wrong, retries.Add, CancellationToken.None));

        Assert.Empty(retries);
        Assert.Contains("28P01", e.Message); // invalid_password
        Assert.Contains("storage.connection_string", e.Message);
        Assert.DoesNotContain("Wrong-Secret-17", e.Message);
        Assert.DoesNotContain(Server.Password, e.Message);
    }

    [Fact]
    public async Task The_description_names_the_server_and_database_but_not_the_password()
    {
        var location = await NewLocationAsync();
        await using var store = await OpenAsync(location);
        var database = new Npgsql.NpgsqlConnectionStringBuilder(location).Database;

        Assert.Equal($"PostgreSQL 127.0.0.1:{Server.Port.ToString(CultureInfo.InvariantCulture)}/{database}", store.Description);
        Assert.DoesNotContain(Server.Password, store.Description);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Password=Parse-Secret-99;Port=not-a-port")]
    [InlineData("Host=127.0.0.1;Password=Parse-Secret-99;Frobnicate=yes")]
    [InlineData("Password=Parse-Secret-99;Database=gatehouse")]
    public async Task A_bad_connection_string_names_the_setting_not_the_password(string connectionString)
    {
        var e = await Assert.ThrowsAsync<SetupException>(() => PostgresStore.OpenAsync(connectionString, null, CancellationToken.None));

        Assert.StartsWith("storage.connection_string: ", e.Message);
        Assert.DoesNotContain("Parse-Secret-99", e.Message);
    }

    [Fact]
    public async Task Stores_requires_a_connection_string_for_postgres()
    {
        var e = await Assert.ThrowsAsync<SetupException>(() => Stores.OpenAsync(new StoreOptions(StoreKind.Postgres), "/nonexistent", CancellationToken.None));
        Assert.Equal("storage.connection_string: required for kind postgres.", e.Message);
    }

    [Fact]
    public async Task HoldsCluster_is_false_until_a_user_authority_is_stored_and_creates_nothing()
    {
        var location = await NewLocationAsync();
        var options = new StoreOptions(StoreKind.Postgres, ConnectionString: location);
        Assert.False(await Stores.HoldsAuthorityAsync(options, "/nonexistent", Gatehouse.Pki.Authorities.UserKind, CancellationToken.None));
        await using (var connection = new Npgsql.NpgsqlConnection(location))
        {
            await connection.OpenAsync();
            await using var tables = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", connection);
            Assert.Equal(0L, await tables.ExecuteScalarAsync());
        }

        await using var store = await Stores.OpenAsync(options, "/nonexistent", CancellationToken.None);
        Assert.IsType<PostgresStore>(store);
        Assert.False(await Stores.HoldsAuthorityAsync(options, "/nonexistent", Gatehouse.Pki.Authorities.UserKind, CancellationToken.None));
        await store.AddAuthorityIfAbsentAsync(new StoredAuthority(global::Gatehouse.Pki.Authorities.UserKind, "ecdsa", "pem", [1], DateTimeOffset.UtcNow), CancellationToken.None);
        Assert.True(await Stores.HoldsAuthorityAsync(options, "/nonexistent", Gatehouse.Pki.Authorities.UserKind, CancellationToken.None));
    }
}
