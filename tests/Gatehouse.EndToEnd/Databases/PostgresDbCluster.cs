using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;
using Npgsql;

namespace Gatehouse.EndToEnd.Databases;

[CollectionDefinition(Name)]
public sealed class PostgresDbCollection : ICollectionFixture<PostgresDbCluster>
{
    public const string Name = "PostgresDb";
}

/// <summary>
/// A real PostgreSQL with TLS on that trusts the cluster's db client CA (pg_hba <c>hostssl … cert</c>) and has one SCRAM
/// user, and a Gatehouse proxy in front that names it three times: <c>orders</c> (env: dev, certificate auth),
/// <c>vault</c> (env: prod, the same server: for label denials) and <c>ledger</c> (env: dev, password auth as
/// <c>ledger_app</c>). Role dba allows env: dev databases as db users alice and ledger_app, on databases orders and
/// postgres; alice has it.
/// </summary>
public sealed class PostgresDbCluster : IAsyncLifetime
{
    public const string ClusterName = "pg-cluster";
    public const string LedgerPassword = "ledger secret 7";

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal PostgresServer Server { get; private set; } = null!;
    internal IssuedCertificate Alice { get; private set; } = null!;
    internal PlainBalancer Balancer { get; private set; } = null!;
    public string HostCa { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var (proxy, dbClientCa, serverCa, serverCert, serverKey) = await DbClusterKit.PrepareAsync(ClusterName, "pg-server");
        Proxy = proxy;

        Server = await PostgresServer.StartAsync(async data =>
        {
            File.Copy(serverCert, Path.Combine(data, "server.pem"));
            File.Copy(serverKey, Path.Combine(data, "server.key"));
            File.SetUnixFileMode(Path.Combine(data, "server.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Copy(dbClientCa, Path.Combine(data, "db-client-ca.pem"));
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"),
                "\nssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\nssl_ca_file = 'db-client-ca.pem'\n");
            // What docs/databases.md tells an operator: the proxy's logins by certificate, one password user, the admin.
            await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), """
                local   all  all                       trust
                hostssl all  postgres    127.0.0.1/32  scram-sha-256
                hostssl all  ledger_app  127.0.0.1/32  scram-sha-256
                hostssl all  all         127.0.0.1/32  cert
                """);
        });
        await using (var admin = new NpgsqlConnection(Server.ConnectionString("postgres")))
        {
            await admin.OpenAsync();
            foreach (var sql in new[]
            {
                "CREATE ROLE alice LOGIN", "CREATE ROLE bob LOGIN", $"CREATE ROLE ledger_app LOGIN PASSWORD '{LedgerPassword}'",
                "CREATE DATABASE orders OWNER alice", "CREATE DATABASE secrets OWNER alice",
            })
            {
                await using var command = new NpgsqlCommand(sql, admin);
                await command.ExecuteNonQueryAsync();
            }
        }

        await File.WriteAllTextAsync(Proxy.File("ledger-password"), LedgerPassword + "\n");
        var databases = $$"""
            resources:
              databases:
                - name: orders
                  protocol: postgres
                  addr: 127.0.0.1:{{Server.Port}}
                  labels: { env: dev }
                  tls: { mode: verify-full, ca_file: {{serverCa.Certificate}} }
                - name: vault
                  addr: 127.0.0.1:{{Server.Port}}
                  labels: { env: prod }
                  tls: { mode: verify-full, ca_file: {{serverCa.Certificate}} }
                - name: ledger
                  addr: 127.0.0.1:{{Server.Port}}
                  labels: { env: dev }
                  tls: { mode: require }
                  auth: { kind: password, user: ledger_app, password_file: ledger-password }
            """;
        (HostCa, Alice, Balancer) = await DbClusterKit.StartAsync(Proxy, databases, """
            allow:
              db_labels: { env: dev }
              db_users: [alice, ledger_app]
              db_names: [orders, postgres]
            """);
    }

    /// <summary>A libpq connection string for plain psql straight to the one port: the database in the host name, the
    /// proxy's address in hostaddr (no DNS needed), the user's Gatehouse certificate.</summary>
    internal string Direct(string database, string dbUser, string dbName, IssuedCertificate? identity = null)
    {
        identity ??= Alice;
        return $"host={database}.db.localhost hostaddr=127.0.0.1 port={Proxy.Port} user={dbUser} dbname={dbName} " +
               $"sslmode=verify-full sslrootcert={HostCa} sslcert={identity.Certificate} sslkey={identity.Key} connect_timeout=30";
    }

    /// <summary>Runs psql with a connection string and SQL; psql's own settings kept out (no ~/.psqlrc, no pager).</summary>
    internal static Task<ProcessResult> PsqlAsync(string connection, string sql) =>
        Peer.RunAsync("psql", ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", connection, "-c", sql],
            environment: new Dictionary<string, string> { ["PGCONNECT_TIMEOUT"] = "30" }, timeout: TimeSpan.FromSeconds(120));

    public async Task DisposeAsync()
    {
        if (Balancer is not null) await Balancer.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
    }
}
