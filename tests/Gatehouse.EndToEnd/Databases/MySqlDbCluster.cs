using System.Globalization;
using System.Text.RegularExpressions;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Databases;

[CollectionDefinition(Name)]
public sealed class MySqlDbCollection : ICollectionFixture<MySqlDbCluster>
{
    public const string Name = "MySqlDb";
}

/// <summary>
/// A real MariaDB with TLS on that trusts the cluster's db client CA, and a Gatehouse proxy in front that names it three
/// times: <c>shop</c> (env: dev, certificate auth: users created REQUIRE SUBJECT), <c>vault</c> (env: prod, the same
/// server: for label denials) and <c>till</c> (env: dev, password auth as <c>till_app</c>). Role dba allows env: dev
/// databases as db users alice and till_app, on database shop; alice has it. MariaDB itself grants alice the database
/// secrets too, so that only Gatehouse refuses it.
/// </summary>
public sealed partial class MySqlDbCluster : IAsyncLifetime
{
    public const string ClusterName = "my-cluster";
    public const string TillPassword = "till secret 9";

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal MariaDbServer Server { get; private set; } = null!;
    internal IssuedCertificate Alice { get; private set; } = null!;
    internal PlainBalancer Balancer { get; private set; } = null!;
    public string HostCa { get; private set; } = "";

    [GeneratedRegex(@"at 127\.0\.0\.1:(\d+) ")]
    private static partial Regex ServingLine();

    public async Task InitializeAsync()
    {
        var (proxy, dbClientCa, serverCa, serverCert, serverKey) = await DbClusterKit.PrepareAsync(ClusterName, "my-server");
        Proxy = proxy;
        Server = await MariaDbServer.StartAsync(serverCert, serverKey, dbClientCa);

        // What docs/databases.md tells an operator: users the proxy logs in by certificate (the subject it presents),
        // one password user.
        await Server.AdminAsync($"""
            CREATE DATABASE shop; CREATE DATABASE secrets;
            CREATE USER alice@'%' REQUIRE SUBJECT '/O={ClusterName}/CN=alice';
            CREATE USER bob@'%' REQUIRE SUBJECT '/O={ClusterName}/CN=bob';
            CREATE USER till_app@'%' IDENTIFIED BY '{TillPassword}';
            GRANT ALL ON shop.* TO alice@'%'; GRANT ALL ON secrets.* TO alice@'%'; GRANT ALL ON shop.* TO till_app@'%';
            CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(100));
            """);

        await File.WriteAllTextAsync(Proxy.File("till-password"), TillPassword + "\n");
        var databases = $$"""
            resources:
              databases:
                - name: shop
                  protocol: mysql
                  addr: 127.0.0.1:{{Server.Port}}
                  labels: { env: dev }
                  tls: { mode: verify-full, ca_file: {{serverCa.Certificate}} }
                - name: vault
                  protocol: mysql
                  addr: 127.0.0.1:{{Server.Port}}
                  labels: { env: prod }
                  tls: { mode: verify-full, ca_file: {{serverCa.Certificate}} }
                - name: till
                  protocol: mysql
                  addr: 127.0.0.1:{{Server.Port}}
                  labels: { env: dev }
                  tls: { mode: require }
                  auth: { kind: password, user: till_app, password_file: till-password }
            """;
        (HostCa, Alice, Balancer) = await DbClusterKit.StartAsync(Proxy, databases, """
            allow:
              db_labels: { env: dev }
              db_users: [alice, till_app]
              db_names: [shop]
            """);
    }

    /// <summary>A client machine logged in as alice at <paramref name="address"/> (the proxy, or the balancer).</summary>
    internal async Task<ClientMachine> AliceAtAsync(string address)
    {
        var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = Balancer.Ca });
        (await client.Cli.RunAsync("login", "--proxy", address, "--identity", Alice.Directory, "--ca", HostCa))
            .EnsureSuccess($"login --identity at {address}");
        return client;
    }

    /// <summary>Starts <c>gatehouse proxy db</c> for <paramref name="database"/> and returns it with its local port.</summary>
    internal static async Task<(BackgroundProcess Process, int Port)> ProxyDbAsync(ClientMachine client, string database, string address,
        params string[] more)
    {
        var process = client.Cli.Start(["proxy", "db", database, "--proxy", address, "--port", "0", .. more]);
        await process.WaitForOutputAsync("Ctrl-C to stop", TimeSpan.FromSeconds(60));
        var match = ServingLine().Match(process.Output);
        Assert.True(match.Success, process.Output);
        return (process, int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>Runs the real mariadb client on a local port; its own option files kept out.</summary>
    internal static Task<ProcessResult> MariaDbAsync(int port, string dbUser, string? dbName, string sql, params string[] more) =>
        Peer.RunAsync("mariadb", ["--no-defaults", "--host=127.0.0.1", $"--port={port}", $"--user={dbUser}",
            .. dbName is null ? Array.Empty<string>() : [$"--database={dbName}"], "--batch", "--skip-column-names", "--connect-timeout=30",
            .. more, "-e", sql], timeout: TimeSpan.FromSeconds(120));

    public async Task DisposeAsync()
    {
        if (Balancer is not null) await Balancer.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
    }
}
