using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

[CollectionDefinition(Name)]
public sealed class EdgeVerifyCollection : ICollectionFixture<EdgeVerifyCluster>
{
    public const string Name = "EdgeVerify";
}

/// <summary>
/// Deployment (d) in verify mode, the whole way with Gatehouse's own exports (issue 20): the edge's trust store is
/// <c>admin ca export --format alb</c> and <c>admin crl export</c> (bob revoked), its target group Gatehouse's plain-HTTP
/// <c>proxy.http_listen</c>, whose front reads the aws-alb-verify headers.
/// </summary>
public sealed class EdgeVerifyCluster : IAsyncLifetime
{
    public const string Front = "edge-verify";

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal EdgeProcess Edge { get; private set; } = null!;
    internal IssuedCertificate Alice { get; private set; } = null!;
    internal IssuedCertificate Bob { get; private set; } = null!;
    public int HttpPort { get; } = Peer.FreePort();
    public int EdgePort { get; } = Peer.FreePort();
    public string EdgeCa { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Proxy = await ProxyUnderTest.CreateAsync("edge-verify", proxyConfig: $"""
            http_listen: 127.0.0.1:{HttpPort}
            trusted_fronts:
              - name: {Front}
                format: aws-alb-verify
                source_cidrs: [127.0.0.1/32]
            """);
        await Proxy.StartProxyAsync();
        Alice = await Proxy.IssueAsync("alice", "--roles", "dev");
        Bob = await Proxy.IssueAsync("bob", "--roles", "dev");
        (await Proxy.Admin.RunAsync("admin", "certs", "revoke", Bob.Serial)).EnsureSuccess("certs revoke bob");
        (await Proxy.Admin.RunAsync("admin", "ca", "export", "--format", "alb", "--out", Proxy.File("alb-bundle.pem"))).EnsureSuccess("ca export alb");
        (await Proxy.Admin.RunAsync("admin", "crl", "export", "--format", "pem", "--out", Proxy.File("gatehouse.crl"))).EnsureSuccess("crl export");

        var edgeCa = await OpensslCa.RootAsync(Proxy.Directory, "edge-ca", "/O=Edge/CN=Edge Test CA");
        EdgeCa = edgeCa.Certificate;
        var (serverCert, serverKey) = await edgeCa.ServerAsync("edge-server");
        Edge = await EdgeProcess.StartAsync(Proxy.Directory, EdgePort, $$"""
            - listen: 127.0.0.1:{{EdgePort}}
              certificate: { cert_file: {{serverCert}}, key_file: {{serverKey}} }
              mutual_authentication:
                mode: verify
                trust_store: { ca_bundle: alb-bundle.pem, crls: [gatehouse.crl] }
              rules:
                - { path: "/*", target_group: gatehouse }
            """, $$"""
            - name: gatehouse
              protocol: HTTP
              targets: [127.0.0.1:{{HttpPort}}]
            """);
    }

    public async Task DisposeAsync()
    {
        if (Edge is not null) await Edge.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
    }
}

[Collection(EdgeVerifyCollection.Name)]
public sealed class EdgeVerifyTests(EdgeVerifyCluster cluster)
{
    [Fact]
    public async Task Whoami_through_the_verify_mode_edge_is_the_user_gatehouse_rechecks_from_the_verify_headers()
    {
        var result = (await Peer.RunAsync("curl", "-sS", "--max-time", "20", "--cacert", cluster.EdgeCa, "--cert", cluster.Alice.Certificate,
            "--key", cluster.Alice.Key, $"https://127.0.0.1:{cluster.EdgePort}/v1/whoami")).EnsureSuccess("curl through the edge");
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.True(json.RootElement.TryGetProperty("user", out var user), result.Stdout);
        Assert.Equal("alice", user.GetString());
        Assert.Equal("forwarded-header", json.RootElement.GetProperty("source").GetString());
        Assert.Equal(EdgeVerifyCluster.Front, json.RootElement.GetProperty("front").GetString());
        Assert.Equal(cluster.Alice.Serial, json.RootElement.GetProperty("serial").GetString(), ignoreCase: true);
    }

    [Fact]
    public async Task A_certificate_on_gatehouses_exported_crl_is_refused_in_the_handshake_as_a_crl_hit()
    {
        var result = await Peer.RunAsync("curl", "-sS", "--max-time", "20", "--cacert", cluster.EdgeCa, "--cert", cluster.Bob.Certificate,
            "--key", cluster.Bob.Key, $"https://127.0.0.1:{cluster.EdgePort}/v1/whoami");
        Assert.True(result.ExitCode != 0, result.Output);
        Assert.Contains(" Failed:ClientCertCrlHit TID_", await cluster.Edge.ConnectionLineAsync("CN=bob"), StringComparison.Ordinal);
    }
}
