using Gatehouse.EndToEnd.Routing;
using Gatehouse.Routing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

[CollectionDefinition(Name)]
public sealed class HttpListenCollection : ICollectionFixture<HttpListenCluster>
{
    public const string Name = "HttpListen";
}

/// <summary>
/// An ALB in verify mode whose target group speaks plain HTTP, played by nginx (issue 7): <c>ssl_verify_client on</c>
/// against the Gatehouse user CA, forwarding <c>X-Amzn-Mtls-Clientcert</c> and WebSocket upgrades over
/// <c>proxy_pass http://</c> to Gatehouse's <c>proxy.http_listen</c>, whose only trusted front is 127.0.0.1/32. Behind
/// it, the TCP app <c>echo</c> (labels env: dev) and users alice and bob, both with role dev. Beside nginx,
/// <c>gatehouse edge</c> in passthrough mode forwards to the TLS port (an HTTPS target group) as a second front.
/// </summary>
public sealed class HttpListenCluster : IAsyncLifetime
{
    public const string Front = "nginx-verify";

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal EchoServer Echo { get; private set; } = null!;
    internal Gatehouse.EndToEnd.Kube.KubeApiStandIn KubeApi { get; private set; } = null!;
    private readonly TempDirectory _kubeDir = new();
    internal NginxPeer Nginx { get; private set; } = null!;

    /// <summary><c>gatehouse edge</c> in passthrough mode in front of the TLS port (docs/edge.md), beside nginx.</summary>
    internal EdgeProcess Edge { get; private set; } = null!;

    public int HttpPort { get; } = Peer.FreePort();
    public int NginxPort { get; } = Peer.FreePort();
    public int EdgePort { get; } = Peer.FreePort();

    public string HostCa { get; private set; } = "";
    public string BalancerCa { get; private set; } = "";
    internal IssuedCertificate Alice { get; private set; } = null!;
    internal IssuedCertificate Bob { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Echo = EchoServer.Start();
        // A Kubernetes API stand-in (no real API server is installable here), so kubectl can go through the same front.
        var kubeDir = _kubeDir.Path;
        var apiCa = await OpensslCa.RootAsync(kubeDir, "kube-api-ca", "/O=Kube Stand-in/CN=Kube API Stand-in CA");
        var (apiCert, apiKey) = await apiCa.ServerAsync("kube-api-server");
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var tokenFile = Path.Combine(kubeDir, "kube-token");
        await File.WriteAllTextAsync(tokenFile, token + "\n");
        KubeApi = await Gatehouse.EndToEnd.Kube.KubeApiStandIn.StartAsync(apiCert, apiKey, token);
        Proxy = await ProxyUnderTest.CreateAsync("http-listen", $"""
            resources:
              tcp_apps:
                - name: echo
                  addr: 127.0.0.1:{Echo.Port}
                  labels: {"{"} env: dev {"}"}
              kube_clusters:
                - name: dev
                  api_server: {KubeApi.Url}
                  ca_file: {apiCa.Certificate}
                  token_file: {tokenFile}
                  labels: {"{"} env: dev {"}"}
            """, proxyConfig: $"""
            http_listen: 127.0.0.1:{HttpPort}
            trusted_fronts:
              - name: {Front}
                format: aws-alb-passthrough
                source_cidrs: [127.0.0.1/32]
            """);
        await Proxy.StartProxyAsync();
        await Proxy.ApplyRoleAsync("dev", """
            allow:
              app_labels: { env: dev }
              kube_labels: { env: dev }
              kube_groups: [developers]
            """);
        HostCa = await Proxy.ExportHostCaAsync();
        var userCa = await Proxy.ExportUserCaAsync();
        Alice = await Proxy.IssueAsync("alice", "--roles", "dev");
        Bob = await Proxy.IssueAsync("bob", "--roles", "dev");

        var balancerCa = await OpensslCa.RootAsync(Proxy.Directory, "balancer-ca", "/O=Balancers/CN=Verify Mode Balancer CA");
        BalancerCa = balancerCa.Certificate;
        var (serverCert, serverKey) = await balancerCa.ServerAsync("balancer-server");
        Nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxServers(serverCert, serverKey, userCa)), NginxPort);
        Edge = await EdgeProcess.StartAsync(Proxy.Directory, EdgePort, $$"""
            - listen: 127.0.0.1:{{EdgePort}}
              certificate: { cert_file: {{serverCert}}, key_file: {{serverKey}} }
              mutual_authentication: { mode: passthrough }
              rules:
                - { path: "/*", target_group: gatehouse }
            """, $$"""
            - name: gatehouse
              protocol: HTTPS
              targets: [127.0.0.1:{{Proxy.Port}}]
              tls: { ca_file: {{HostCa}}, server_name: gatehouse.internal }
              health_check: { path: /healthz, interval: 10s }
            """);
    }

    /// <summary>The verify-mode front over plain HTTP (an ALB's HTTP target group), as docs/alb-mtls.md shows it.</summary>
    private string NginxServers(string serverCert, string serverKey, string userCa) =>
        NginxBlocks.Server(NginxPort, serverCert, serverKey, server: $"""
            ssl_client_certificate {userCa};
            ssl_verify_client      on;   # no certificate from the user CA, no connection
            ssl_verify_depth       4;
            """, location: $"""
            proxy_pass http://127.0.0.1:{HttpPort};
            {NginxBlocks.PassUpgrades}
            {NginxBlocks.AlbRequestHeaders}
            proxy_read_timeout 1h;
            """);

    /// <summary>
    /// A tunnel by hand, so the two certificates can differ: a WebSocket (gatehouse-tls) to nginx offering
    /// <paramref name="outer"/> when nginx asks, then inside it TLS to gatehouse.internal (ALPN gatehouse-tcp, the host CA)
    /// with <paramref name="inner"/>, and the dial frame for <paramref name="target"/>. Returns the answer and, when it
    /// is ok, the stream to the app (the caller disposes it).
    /// </summary>
    internal async Task<(DialAnswer Answer, Stream? Stream)> DialThroughNginxAsync(IssuedCertificate outer, IssuedCertificate inner, string target,
        CancellationToken cancellationToken)
    {
        var tunnel = await TunnelByHand.WebSocketAsync(NginxPort, BalancerCa, outer, cancellationToken);
        var tls = await TunnelByHand.TlsAsync(tunnel, HostCa, inner, AlpnProtocols.Tcp, cancellationToken);
        try
        {
            await DialFrames.WriteAsync(tls, new DialRequest(target), cancellationToken);
            var (answer, error) = await DialFrames.ReadAnswerAsync(tls, cancellationToken);
            Assert.True(answer is not null, $"no dial answer: {error}");
            if (!answer.Ok)
            {
                await tls.DisposeAsync();
                return (answer, null);
            }
            return (answer, tls);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Plain <c>kubectl get pods</c> through the balancer on <paramref name="balancerPort"/>: kubeconfig server
    /// https://&lt;balancer&gt;/kube/dev, alice's Gatehouse certificate as the client certificate, the balancer's CA.
    /// </summary>
    internal async Task<ProcessResult> KubectlGetPodsAsync(int balancerPort)
    {
        using var home = new TempDirectory();
        var kubeconfig = home.File("kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, $$"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: gatehouse
                cluster: { server: "https://127.0.0.1:{{balancerPort}}/kube/dev", certificate-authority: "{{BalancerCa}}" }
            users:
              - name: alice
                user: { client-certificate: "{{Alice.Certificate}}", client-key: "{{Alice.Key}}" }
            contexts:
              - name: gatehouse
                context: { cluster: gatehouse, user: alice, namespace: default }
            current-context: gatehouse
            """);
        return await Peer.RunAsync("kubectl", ["--request-timeout=20s", "get", "pods"], timeout: TimeSpan.FromSeconds(40),
            environment: new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = home.Path });
    }

    public async Task DisposeAsync()
    {
        if (Edge is not null) await Edge.DisposeAsync();
        if (Nginx is not null) await Nginx.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        if (KubeApi is not null) await KubeApi.DisposeAsync();
        Echo?.Dispose();
        _kubeDir.Dispose();
    }
}
