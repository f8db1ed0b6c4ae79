using Gatehouse.EndToEnd.Balancers;

namespace Gatehouse.EndToEnd.Databases;

/// <summary>The steps every database cluster of these tests takes alike, around its own database server.</summary>
internal static class DbClusterKit
{
    /// <summary>Creates the cluster and its db client CA (the first start of the proxy), which the database must trust
    /// before the proxy can name it, and a server CA and certificate for the database's TLS.</summary>
    public static async Task<(ProxyUnderTest Proxy, string DbClientCa, OpensslCa ServerCa, string ServerCert, string ServerKey)> PrepareAsync(
        string clusterName, string serverName)
    {
        var proxy = await ProxyUnderTest.CreateAsync(clusterName, publicAddr: "[localhost, 127.0.0.1]");
        await proxy.StartProxyAsync();
        await proxy.KillAsync();
        var dbClientCa = proxy.File("db-client-ca.pem");
        (await proxy.Admin.RunAsync("admin", "ca", "export", "--kind", "db-client", "--out", dbClientCa)).EnsureSuccess("ca export --kind db-client");
        var serverCa = await OpensslCa.RootAsync(proxy.Directory, $"{serverName}-ca", $"/O=Databases/CN={serverName} CA");
        var (serverCert, serverKey) = await serverCa.ServerAsync(serverName);
        return (proxy, dbClientCa, serverCa, serverCert, serverKey);
    }

    /// <summary>Starts the proxy again with <paramref name="databases"/> (a resources.databases YAML block) in its
    /// configuration, applies role dba, and gives alice that role; nginx in front as a layer-7 balancer.</summary>
    public static async Task<(string HostCa, IssuedCertificate Alice, PlainBalancer Balancer)> StartAsync(ProxyUnderTest proxy, string databases,
        string dbaRole)
    {
        await File.AppendAllTextAsync(proxy.File("gatehouse.yaml"), "\n" + databases);
        await proxy.StartProxyAsync();
        await proxy.ApplyRoleAsync("dba", dbaRole);
        var hostCa = await proxy.ExportHostCaAsync();
        var alice = await proxy.IssueAsync("alice", "--roles", "dba");
        return (hostCa, alice, await PlainBalancer.StartAsync(proxy.Port, hostCa));
    }
}
