using System.Globalization;
using System.Text.RegularExpressions;
using Gatehouse.Testing;
using Npgsql;

namespace Gatehouse.EndToEnd.Databases;

/// <summary>
/// The client side: `gatehouse ls dbs`, `gatehouse db config` (plain psql with what it prints), `gatehouse db connect`,
/// and `gatehouse proxy db` straight at the proxy and through nginx as a layer-7 front, with psql and with Npgsql (what
/// GUI clients and ORMs use).
/// </summary>
[Collection(PostgresDbCollection.Name)]
public sealed partial class DbClientTests(PostgresDbCluster cluster)
{
    [GeneratedRegex(@"at 127\.0\.0\.1:(\d+) ")]
    private static partial Regex ServingLine();

    private async Task<ClientMachine> AliceAtAsync(string address)
    {
        var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = cluster.Balancer.Ca });
        (await client.Cli.RunAsync("login", "--proxy", address, "--identity", cluster.Alice.Directory, "--ca", cluster.HostCa))
            .EnsureSuccess($"login --identity at {address}");
        return client;
    }

    [Fact]
    public async Task Ls_dbs_names_the_databases_the_roles_select_and_nothing_else()
    {
        using var client = await AliceAtAsync(cluster.Proxy.Address);

        var result = await client.Cli.RunAsync("ls", "dbs", "--format", "json");

        Assert.True(result.ExitCode == 0, result.Output);
        using var json = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var names = json.RootElement.EnumerateArray().Select(d => d.GetProperty("name").GetString()).ToList();
        Assert.Equal(["ledger", "orders"], names);
        Assert.Equal("orders.db.localhost", json.RootElement[1].GetProperty("server_name").GetString());
    }

    [Fact]
    public async Task Db_config_prints_a_connection_string_plain_psql_uses_as_it_is()
    {
        using var client = await AliceAtAsync(cluster.Proxy.Address);

        var config = await client.Cli.RunAsync("db", "config", "orders", "--db-user", "alice", "--db-name", "orders");

        Assert.True(config.ExitCode == 0, config.Output);
        Assert.Contains("[gatehouse-orders]", config.Stdout);
        var line = config.Stdout.Split('\n').Single(l => l.StartsWith("psql \"", StringComparison.Ordinal));
        var connection = line["psql \"".Length..^1];
        var psql = await PostgresDbCluster.PsqlAsync(connection, "select current_user");
        Assert.True(psql.ExitCode == 0, psql.Output);
        Assert.Equal("alice", psql.Stdout.Trim());
    }

    [Theory]
    [InlineData("proxy")]
    [InlineData("nginx")]
    public async Task Db_connect_runs_psql_straight_or_through_a_local_port_behind_a_balancer(string route)
    {
        var address = route == "proxy" ? cluster.Proxy.Address : cluster.Balancer.Address;
        using var client = await AliceAtAsync(address);

        var result = await client.Cli.RunWithInputAsync("select 'connected as ' || current_user;\n",
            "db", "connect", "orders", "--proxy", address, "--db-user", "alice", "--db-name", "orders");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("connected as alice", result.Stdout);
    }

    [Theory]
    [InlineData("proxy")]
    [InlineData("nginx")]
    public async Task Proxy_db_serves_psql_and_npgsql_on_a_local_port(string route)
    {
        var address = route == "proxy" ? cluster.Proxy.Address : cluster.Balancer.Address;
        using var client = await AliceAtAsync(address);
        await using var process = client.Cli.Start("proxy", "db", "orders", "--proxy", address, "--port", "0");
        await process.WaitForOutputAsync("Ctrl-C to stop", TimeSpan.FromSeconds(60));
        var match = ServingLine().Match(process.Output);
        Assert.True(match.Success, process.Output);
        var port = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Contains(route == "proxy" ? "(direct;" : "(tunnel;", process.Output);

        var psql = await PostgresDbCluster.PsqlAsync($"host=127.0.0.1 port={port} user=alice dbname=orders sslmode=disable", "select current_user");
        Assert.True(psql.ExitCode == 0, psql.Output + process.Output);
        Assert.Equal("alice", psql.Stdout.Trim());

        // Npgsql, as GUI clients and ORMs use it: the extended protocol, parameters and a prepared statement.
        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=alice;Database=orders;SSL Mode=Disable;Pooling=false");
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("create table if not exists items (id int primary key, name text)", connection))
            await create.ExecuteNonQueryAsync();
        await using (var insert = new NpgsqlCommand("insert into items values (@id, @name) on conflict (id) do update set name = excluded.name", connection))
        {
            insert.Parameters.AddWithValue("id", route.Length);
            insert.Parameters.AddWithValue("name", $"via {route}");
            await insert.PrepareAsync();
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }
        await using var select = new NpgsqlCommand("select name from items where id = @id", connection);
        select.Parameters.AddWithValue("id", route.Length);
        Assert.Equal($"via {route}", await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_cancel_through_proxy_db_stops_the_running_statement()
    {
        using var client = await AliceAtAsync(cluster.Balancer.Address);
        await using var process = client.Cli.Start("proxy", "db", "orders", "--proxy", cluster.Balancer.Address, "--port", "0");
        await process.WaitForOutputAsync("Ctrl-C to stop", TimeSpan.FromSeconds(60));
        var port = int.Parse(ServingLine().Match(process.Output).Groups[1].Value, CultureInfo.InvariantCulture);
        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=alice;Database=orders;SSL Mode=Disable;Pooling=false");
        await connection.OpenAsync();
        await using var sleep = new NpgsqlCommand("select pg_sleep(60)", connection);

        // Npgsql cancels as libpq does: a new connection carrying the CancelRequest with the key the session was given,
        // here through the local port and the tunnel, inside TLS.
        var running = sleep.ExecuteNonQueryAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        sleep.Cancel();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => running);

        Assert.Contains("57014", (error as PostgresException)?.SqlState ?? (error.InnerException as PostgresException)?.SqlState ?? error.ToString());
    }

    [Fact]
    public async Task Proxy_db_refuses_up_front_a_db_user_the_roles_do_not_allow()
    {
        using var client = await AliceAtAsync(cluster.Proxy.Address);

        var result = await client.Cli.RunAsync("proxy", "db", "orders", "--db-user", "bob", "--port", "0");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("db_users", result.Stderr);
    }
}
