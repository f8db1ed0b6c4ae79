using System.Diagnostics;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Databases;

/// <summary>
/// Plain psql straight to the one TLS port: SSLRequest answered, the database named in the TLS server name, the user's
/// Gatehouse certificate as sslcert, the proxy logging in upstream with the db client certificate (or a password).
/// </summary>
[Collection(PostgresDbCollection.Name)]
public sealed class PlainPsqlTests(PostgresDbCluster cluster)
{
    [Fact]
    public async Task Psql_with_the_profile_certificate_reaches_the_database_as_the_db_user_it_asked_for()
    {
        var result = await PostgresDbCluster.PsqlAsync(cluster.Direct("orders", "alice", "orders"),
            "select current_user || ' ' || current_database() || ' ' || (select ssl from pg_stat_ssl where pid = pg_backend_pid())");

        Assert.True(result.ExitCode == 0, result.Output);
        // The database saw alice over TLS: the proxy logged in with a db client certificate whose CN is alice.
        Assert.Equal("alice orders true", result.Stdout.Trim());
    }

    [Fact]
    public async Task A_db_user_outside_db_users_is_refused_with_the_rule_psql_prints()
    {
        var result = await PostgresDbCluster.PsqlAsync(cluster.Direct("orders", "bob", "orders"), "select 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("FATAL:  gatehouse:", result.Stderr);
        Assert.Contains("db_users", result.Stderr);
        await cluster.Proxy.WaitForOutputAsync("denied db user bob on database orders");
    }

    [Fact]
    public async Task A_database_name_outside_db_names_is_refused_with_the_rule()
    {
        var result = await PostgresDbCluster.PsqlAsync(cluster.Direct("orders", "alice", "secrets"), "select 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("db_names", result.Stderr);
    }

    [Fact]
    public async Task A_database_the_roles_do_not_select_is_refused_by_its_labels()
    {
        var result = await PostgresDbCluster.PsqlAsync(cluster.Direct("vault", "alice", "orders"), "select 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("db_labels", result.Stderr);
    }

    [Fact]
    public async Task An_unknown_database_name_in_the_host_is_refused_with_what_to_do()
    {
        var result = await PostgresDbCluster.PsqlAsync(cluster.Direct("nosuch", "alice", "orders"), "select 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no PostgreSQL database named 'nosuch'", result.Stderr);
    }

    [Fact]
    public async Task A_replication_connection_and_a_name_postgresql_would_cut_are_refused()
    {
        var replication = await PostgresDbCluster.PsqlAsync(cluster.Direct("orders", "alice", "orders") + " replication=database", "IDENTIFY_SYSTEM");
        var longName = await PostgresDbCluster.PsqlAsync(cluster.Direct("orders", "alice", new string('o', 64)), "select 1");

        Assert.NotEqual(0, replication.ExitCode);
        Assert.Contains("replication connections are not served through Gatehouse", replication.Stderr);
        Assert.NotEqual(0, longName.ExitCode);
        Assert.Contains("at most 63 bytes", longName.Stderr);
    }

    [Fact]
    public async Task Without_a_client_certificate_psql_is_told_to_give_one()
    {
        var connection = $"host=orders.db.localhost hostaddr=127.0.0.1 port={cluster.Proxy.Port} user=alice dbname=orders " +
                         $"sslmode=verify-full sslrootcert={cluster.HostCa}";

        var result = await PostgresDbCluster.PsqlAsync(connection, "select 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no client certificate was presented", result.Stderr);
    }

    [Fact]
    public async Task Psql_without_tls_is_told_to_use_verify_full()
    {
        var connection = $"host=127.0.0.1 port={cluster.Proxy.Port} user=alice dbname=orders sslmode=disable";

        var result = await PostgresDbCluster.PsqlAsync(connection, "select 1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("only inside TLS", result.Stderr);
        Assert.Contains("sslmode=verify-full", result.Stderr);
    }

    [Fact]
    public async Task A_password_database_is_reached_as_its_one_user_and_refuses_others()
    {
        var allowed = await PostgresDbCluster.PsqlAsync(cluster.Direct("ledger", "ledger_app", "postgres"), "select current_user");
        var refused = await PostgresDbCluster.PsqlAsync(cluster.Direct("ledger", "alice", "postgres"), "select current_user");

        Assert.True(allowed.ExitCode == 0, allowed.Output);
        Assert.Equal("ledger_app", allowed.Stdout.Trim());
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("reached as db user 'ledger_app' only", refused.Stderr);
    }

    [Fact]
    public async Task Sessions_and_each_statement_are_audited()
    {
        var marker = $"audit_marker_{Guid.NewGuid():N}";

        var result = await PostgresDbCluster.PsqlAsync(cluster.Direct("orders", "alice", "orders"), $"select '{marker}'");

        Assert.True(result.ExitCode == 0, result.Output);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var queries = await cluster.Proxy.AuditAsync("--type", "db.query", "--user", "alice");
            var ends = await cluster.Proxy.AuditAsync("--type", "db.session.end", "--user", "alice");
            var query = queries.FirstOrDefault(e => e.GetProperty("details").GetProperty("query").GetString()!.Contains(marker));
            if (query.ValueKind != System.Text.Json.JsonValueKind.Undefined && ends.Count > 0)
            {
                Assert.Equal("db:orders", query.GetProperty("resource").GetString());
                Assert.Equal("alice", query.GetProperty("details").GetProperty("db_user").GetString());
                Assert.Equal("orders", query.GetProperty("details").GetProperty("db_name").GetString());
                Assert.Equal("simple", query.GetProperty("details").GetProperty("protocol").GetString());
                Assert.Contains(ends, e => e.GetProperty("resource").GetString() == "db:orders"
                                           && long.Parse(e.GetProperty("details").GetProperty("bytes_in").GetString()!) > 0);
                var starts = await cluster.Proxy.AuditAsync("--type", "db.session.start", "--user", "alice");
                Assert.Contains(starts, e => e.GetProperty("resource").GetString() == "db:orders");
                return;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the statement's db.query event was not written");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_client_starting_tls_directly_with_alpn_postgresql_is_served_as_psql_17_would_be()
    {
        // PostgreSQL 17's sslnegotiation=direct: no SSLRequest, a ClientHello with ALPN "postgresql" at once (the psql
        // here is older, so .NET's TLS plays that client: the same bytes on the wire).
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync("127.0.0.1", cluster.Proxy.Port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(cluster.Alice.Certificate, cluster.Alice.Key);
        using var hostCa = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(cluster.HostCa));
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "orders.db.localhost",
            ApplicationProtocols = [new System.Net.Security.SslApplicationProtocol("postgresql")],
            ClientCertificates = [System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
                certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null)],
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null &&
                new System.Security.Cryptography.X509Certificates.X509Certificate2(presented).Issuer == hostCa.Subject,
        });
        Assert.Equal("postgresql", tls.NegotiatedApplicationProtocol.ToString());
        await tls.WriteAsync(Gatehouse.Proxy.Services.Postgres.PostgresWire.StartupMessage(
            [new("user", "alice"), new("database", "orders")]));

        var first = await Gatehouse.Proxy.Services.Postgres.PostgresWire.ReadMessageAsync(tls, 65536, CancellationToken.None);

        Assert.Equal('R', first!.Value.Type); // AuthenticationOk: the proxy logged in upstream for alice
        Assert.Equal(new byte[4], first.Value.Body);
    }

    [Fact]
    public async Task Ctrl_c_in_psql_cancels_a_running_statement_through_the_proxy()
    {
        var psi = new ProcessStartInfo("psql", ["-X", "-d", cluster.Direct("orders", "alice", "orders"), "-c", "select pg_sleep(60)"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        };
        using var psql = Process.Start(psi)!;
        var stderr = psql.StandardError.ReadToEndAsync();
        var stdout = psql.StandardOutput.ReadToEndAsync();
        // Wait until the statement runs on the database, then press Ctrl-C (SIGINT), as a user would.
        await WaitForActiveSleepAsync();
        (await Peer.RunAsync("kill", "-INT", psql.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))).EnsureSuccess("kill -INT psql");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await psql.WaitForExitAsync(timeout.Token);

        Assert.Contains("canceling statement due to user request", await stderr + await stdout);
    }

    private async Task WaitForActiveSleepAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using var admin = new Npgsql.NpgsqlConnection(cluster.Server.ConnectionString("postgres"));
            await admin.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(
                "select count(*) from pg_stat_activity where state = 'active' and query like 'select pg_sleep(60)%'", admin);
            if ((long)(await command.ExecuteScalarAsync())! > 0) return;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the statement never started on the database");
            await Task.Delay(100);
        }
    }
}
