using System.Diagnostics;
using Gatehouse.Testing;
using MySqlConnector;

namespace Gatehouse.EndToEnd.Databases;

/// <summary>
/// MySQL through Gatehouse with the real mariadb client and MySqlConnector (what .NET ORMs and GUI tools use), against a
/// real MariaDB: through `gatehouse proxy db` straight at the proxy and through nginx as a layer-7 front, `gatehouse db
/// connect`, the roles' refusals as the client prints them, a password database, and the audit.
/// </summary>
[Collection(MySqlDbCollection.Name)]
public sealed class MySqlTests(MySqlDbCluster cluster)
{
    [Theory]
    [InlineData("proxy")]
    [InlineData("nginx")]
    public async Task Proxy_db_serves_the_mariadb_client_and_mysqlconnector_logged_in_by_certificate(string route)
    {
        var address = route == "proxy" ? cluster.Proxy.Address : cluster.Balancer.Address;
        using var client = await cluster.AliceAtAsync(address);
        // A db user named up front is judged before listening; MySQL has no default db name to judge with it.
        var (process, port) = await MySqlDbCluster.ProxyDbAsync(client, "shop", address, "--db-user", "alice");
        await using var _ = process;
        Assert.Contains(route == "proxy" ? "(direct;" : "(tunnel;", process.Output);
        Assert.Contains("Connect with: mariadb --host=127.0.0.1", process.Output);

        var mariadb = await MySqlDbCluster.MariaDbAsync(port, "alice", "shop", "select current_user(), database()");

        Assert.True(mariadb.ExitCode == 0, mariadb.Output + process.Output);
        // The database saw alice, whom it lets in only with the db client certificate naming her (REQUIRE SUBJECT).
        Assert.Equal("alice@%\tshop", mariadb.Stdout.Trim());

        // MySqlConnector: a prepared statement (COM_STMT_PREPARE / EXECUTE) with parameters.
        await using var connection = new MySqlConnection($"Server=127.0.0.1;Port={port};User ID=alice;Database=shop;SSL Mode=None;Pooling=false");
        await connection.OpenAsync();
        await using (var insert = new MySqlCommand("replace into items values (@id, @name)", connection))
        {
            insert.Parameters.AddWithValue("@id", route == "proxy" ? 1 : 2);
            insert.Parameters.AddWithValue("@name", $"via {route}");
            await insert.PrepareAsync();
            Assert.InRange(await insert.ExecuteNonQueryAsync(), 1, 2); // 2: replaced a row of an earlier run
        }
        await using var select = new MySqlCommand("select name from items where id = @id", connection);
        select.Parameters.AddWithValue("@id", route == "proxy" ? 1 : 2);
        await select.PrepareAsync();
        Assert.Equal($"via {route}", await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_client_prints_the_refusal_of_a_db_user_or_a_database_the_roles_do_not_allow()
    {
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);
        var (process, port) = await MySqlDbCluster.ProxyDbAsync(client, "shop", cluster.Proxy.Address);
        await using var _ = process;

        var user = await MySqlDbCluster.MariaDbAsync(port, "bob", "shop", "select 1");
        var database = await MySqlDbCluster.MariaDbAsync(port, "alice", "secrets", "select 1");

        Assert.NotEqual(0, user.ExitCode);
        Assert.Contains("ERROR 1045", user.Stderr);
        Assert.Contains("db_users", user.Stderr);
        Assert.NotEqual(0, database.ExitCode);
        Assert.Contains("ERROR 1044", database.Stderr);
        Assert.Contains("db_names", database.Stderr);
    }

    [Fact]
    public async Task Use_of_a_database_outside_db_names_is_refused_and_the_session_stays_where_it_was()
    {
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);
        var (process, port) = await MySqlDbCluster.ProxyDbAsync(client, "shop", cluster.Proxy.Address);
        await using var _ = process;

        // The client's `use` is COM_INIT_DB. MariaDB itself would allow secrets.
        var result = await MySqlDbCluster.MariaDbAsync(port, "alice", "shop", "use secrets; select 'not reached'");

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(result.Stderr.Contains("ERROR 1044") && result.Stderr.Contains("db_names"), result.Output);

        // The session goes on where it was: MySqlConnector's ChangeDatabase is COM_INIT_DB too.
        await using var connection = new MySqlConnection($"Server=127.0.0.1;Port={port};User ID=alice;Database=shop;SSL Mode=None;Pooling=false");
        await connection.OpenAsync();
        var refused = await Assert.ThrowsAsync<MySqlException>(() => connection.ChangeDatabaseAsync("secrets"));
        Assert.Equal(1044, refused.Number);
        await using var where = new MySqlCommand("select database()", connection);
        Assert.Equal("shop", await where.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_password_database_logs_in_as_its_one_user_and_refuses_others()
    {
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);
        var (process, port) = await MySqlDbCluster.ProxyDbAsync(client, "till", cluster.Proxy.Address);
        await using var _ = process;

        var allowed = await MySqlDbCluster.MariaDbAsync(port, "till_app", "shop", "select current_user()");
        var refused = await MySqlDbCluster.MariaDbAsync(port, "alice", "shop", "select current_user()");

        Assert.True(allowed.ExitCode == 0, allowed.Output + process.Output);
        Assert.Equal("till_app@%", allowed.Stdout.Trim());
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("reached as db user 'till_app' only", refused.Stderr);
    }

    [Fact]
    public async Task A_database_the_labels_do_not_select_and_a_db_user_the_roles_do_not_allow_are_refused_before_listening()
    {
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);

        var result = await client.Cli.RunAsync("proxy", "db", "vault", "--port", "0");
        var bob = await client.Cli.RunAsync("proxy", "db", "shop", "--db-user", "bob", "--port", "0");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("vault", result.Stderr);
        Assert.Equal(1, bob.ExitCode);
        Assert.Contains("db_users", bob.Stderr);
    }

    [Theory]
    [InlineData("proxy")]
    [InlineData("nginx")]
    public async Task Db_connect_runs_mariadb_through_a_local_port(string route)
    {
        var address = route == "proxy" ? cluster.Proxy.Address : cluster.Balancer.Address;
        using var client = await cluster.AliceAtAsync(address);

        var result = await client.Cli.RunWithInputAsync("select concat('connected as ', current_user());\n",
            "db", "connect", "shop", "--proxy", address, "--db-user", "alice", "--db-name", "shop");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("connected as alice@%", result.Stdout);
    }

    [Fact]
    public async Task Db_config_prints_an_option_file_block_and_the_local_proxy_to_run()
    {
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);

        var config = await client.Cli.RunAsync("db", "config", "shop", "--db-user", "alice", "--db-name", "shop");

        Assert.True(config.ExitCode == 0, config.Output);
        Assert.Contains("[client-gatehouse-shop]", config.Stdout);
        Assert.Contains("user=alice", config.Stdout);
        Assert.Contains("database=shop", config.Stdout);
        Assert.Contains("gatehouse proxy db shop --port 3307", config.Stdout);
    }

    [Fact]
    public async Task Sessions_statements_and_prepared_statements_are_audited()
    {
        var marker = $"audit_marker_{Guid.NewGuid():N}";
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);
        var (process, port) = await MySqlDbCluster.ProxyDbAsync(client, "shop", cluster.Proxy.Address);
        await using var _ = process;
        var result = await MySqlDbCluster.MariaDbAsync(port, "alice", "shop", $"select '{marker}'; prepare p from 'select 1 /* {marker} */'");
        Assert.True(result.ExitCode == 0, result.Output);
        await using (var connection = new MySqlConnection($"Server=127.0.0.1;Port={port};User ID=alice;Database=shop;SSL Mode=None;Pooling=false"))
        {
            await connection.OpenAsync();
            await using var prepared = new MySqlCommand($"select @a /* prepared {marker} */", connection);
            prepared.Parameters.AddWithValue("@a", 1);
            await prepared.PrepareAsync();
            await prepared.ExecuteScalarAsync();
        }

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var queries = await cluster.Proxy.AuditAsync("--type", "db.query", "--user", "alice");
            var text = queries.FirstOrDefault(e => e.GetProperty("details").GetProperty("query").GetString() == $"select '{marker}'");
            var prepare = queries.FirstOrDefault(e => e.GetProperty("details").GetProperty("query").GetString()!.Contains($"prepared {marker}")
                                                      && e.GetProperty("details").GetProperty("protocol").GetString() == "prepare");
            var ends = await cluster.Proxy.AuditAsync("--type", "db.session.end", "--user", "alice");
            if (text.ValueKind != System.Text.Json.JsonValueKind.Undefined && prepare.ValueKind != System.Text.Json.JsonValueKind.Undefined
                && ends.Any(e => e.GetProperty("resource").GetString() == "db:shop"))
            {
                Assert.Equal("db:shop", text.GetProperty("resource").GetString());
                Assert.Equal("alice", text.GetProperty("details").GetProperty("db_user").GetString());
                Assert.Equal("shop", text.GetProperty("details").GetProperty("db_name").GetString());
                Assert.Equal("text", text.GetProperty("details").GetProperty("protocol").GetString());
                var starts = await cluster.Proxy.AuditAsync("--type", "db.session.start", "--user", "alice");
                Assert.Contains(starts, e => e.GetProperty("resource").GetString() == "db:shop");
                return;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the statements' db.query events were not written");
            await Task.Delay(200);
        }
    }
}
