using System.Security.Cryptography;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Kube;

[CollectionDefinition(Name)]
public sealed class KubeAccessCollection : ICollectionFixture<KubeAccessCluster>
{
    public const string Name = "KubeAccess";
}

/// <summary>
/// One Gatehouse proxy serving Kubernetes clusters (labels env: dev): <c>dev</c>, a <see cref="KubeApiStandIn"/> reached
/// with a bearer token and a CA of its own (proxy.kube_default); <c>dev-certs</c>, another reached with the proxy's client
/// certificate; <c>down</c>, where nothing listens; and nginx in front playing an AWS ALB in passthrough mode, as
/// <see cref="Apps.HttpAppsCluster"/> does. Role dev allows env: dev as kube groups developers and viewers; role ops only
/// env: prod. alice has dev, bob has ops,
/// both as Gatehouse certificates (for .NET clients) and as company certificates mapped by identity_mappings (for kubectl). Each kubectl run gets a kubeconfig and a HOME (discovery cache) of its own.
/// </summary>
public sealed class KubeAccessCluster : IAsyncLifetime
{
    public const string SecretHeader = "X-Gatehouse-Front-Secret";
    public const string ClusterName = "dev";
    public const string CertClusterName = "dev-certs";
    public const string CorpCaDn = "CN=Corp Kube CA,O=Corp Example";

    /// <summary>A public name of the proxy (not in DNS): the host certificate covers kube-gatehouse.&lt;it&gt;, which kubectl
    /// asks for with tls-server-name while connecting to 127.0.0.1.</summary>
    public const string PublicName = "gatehouse.test";

    private readonly TempDirectory _dir = new();
    private int _kubeconfigs;

    public string AlbSecret { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    public int AlbPort { get; } = Peer.FreePort();

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal KubeApiStandIn Api { get; private set; } = null!;

    /// <summary>The same stand-in behind cluster dev-certs, where the proxy authenticates with a client certificate.</summary>
    internal KubeApiStandIn CertApi { get; private set; } = null!;
    internal NginxPeer Nginx { get; private set; } = null!;
    internal IssuedCertificate Alice { get; private set; } = null!;
    internal IssuedCertificate Bob { get; private set; } = null!;

    /// <summary>alice's company certificate (mapped to alice, role dev): what kubectl uses.</summary>
    internal IssuedCertificate AliceCorp { get; private set; } = null!;

    /// <summary>bob's company certificate (mapped to bob, role ops).</summary>
    internal IssuedCertificate BobCorp { get; private set; } = null!;

    public string HostCa { get; private set; } = "";
    public string BalancerCa { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var apiCa = await OpensslCa.RootAsync(_dir.Path, "kube-api-ca", "/O=Kube Stand-in/CN=Kube API Stand-in CA");
        var (apiCert, apiKey) = await apiCa.ServerAsync("kube-api-server");
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var tokenFile = _dir.File("kube-token");
        await File.WriteAllTextAsync(tokenFile, token + "\n");
        Api = await KubeApiStandIn.StartAsync(apiCert, apiKey, token);
        var (proxyCert, proxyKey) = await apiCa.ClientAsync("gatehouse-proxy", "/O=Kube Stand-in/CN=gatehouse-proxy");
        CertApi = await KubeApiStandIn.StartAsync(apiCert, apiKey, token, clientCaFile: apiCa.Certificate);
        var downPort = Peer.FreePort();

        Proxy = await ProxyUnderTest.CreateAsync("kube", $$"""
            trust:
              client_ca_files: [corp-ca.pem]
            identity_mappings:
              - issuer: "{{CorpCaDn}}"
                san_email: "bob@corp.example"
                user: bob
                roles: [ops]
              - issuer: "{{CorpCaDn}}"
                san_email: "*@corp.example"
                user: "{email.local}"
                roles: [dev]
            resources:
              kube_clusters:
                - name: {{ClusterName}}
                  api_server: {{Api.Url}}
                  ca_file: {{apiCa.Certificate}}
                  token_file: {{tokenFile}}
                  labels: { env: dev }
                - name: {{CertClusterName}}
                  api_server: {{CertApi.Url}}
                  ca_file: {{apiCa.Certificate}}
                  client_cert_file: {{proxyCert}}
                  client_key_file: {{proxyKey}}
                  labels: { env: dev }
                - name: down
                  api_server: https://127.0.0.1:{{downPort}}
                  ca_file: {{apiCa.Certificate}}
                  token_file: {{tokenFile}}
                  labels: { env: dev }
            """, new Dictionary<string, string> { ["GH_FRONT_SECRET_ALB"] = AlbSecret }, $$"""
            kube_default: {{ClusterName}}
            trusted_proxies: [127.0.0.1/32]
            trusted_fronts:
              - name: nginx-alb
                format: aws-alb-passthrough
                source_cidrs: [127.0.0.1/32]
                shared_secret_header: { name: {{SecretHeader}}, value_env: GH_FRONT_SECRET_ALB }
            """, publicAddr: $"[127.0.0.1, {PublicName}]");
        // Company certificates (mapped by identity_mappings) as well as Gatehouse-issued ones go through kubectl. (Go's x509
        // parser refused Gatehouse certificates while the identity extension's OID had an arc beyond 2^31.)
        var corpCa = await OpensslCa.RootAsync(Proxy.Directory, "corp-ca", "/O=Corp Example/CN=Corp Kube CA");
        var (aliceCert, aliceKey) = await corpCa.ClientAsync("alice-corp", "/O=Corp Example/CN=Alice Laptop", email: "alice@corp.example");
        var (bobCert, bobKey) = await corpCa.ClientAsync("bob-corp", "/O=Corp Example/CN=Bob Laptop", email: "bob@corp.example");
        AliceCorp = new IssuedCertificate(aliceCert, aliceKey, "");
        BobCorp = new IssuedCertificate(bobCert, bobKey, "");
        await Proxy.StartProxyAsync();
        await Proxy.ApplyRoleAsync("dev", """
            allow:
              kube_labels: { env: dev }
              kube_groups: [developers, viewers]
            """);
        await Proxy.ApplyRoleAsync("ops", """
            allow:
              kube_labels: { env: prod }
              kube_groups: [ops]
            """);
        HostCa = await Proxy.ExportHostCaAsync();
        Alice = await Proxy.IssueAsync("alice", "--roles", "dev");
        Bob = await Proxy.IssueAsync("bob", "--roles", "ops");

        var balancerCa = await OpensslCa.RootAsync(Proxy.Directory, "balancer-ca", "/O=Balancers/CN=Kube Balancer CA");
        BalancerCa = balancerCa.Certificate;
        var (serverCert, serverKey) = await balancerCa.ServerAsync("balancer-server");
        Nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxServers(serverCert, serverKey)), AlbPort);
    }

    /// <summary>nginx as an ALB in passthrough mode; buffering off so that watches stream, and upgrades passed on (an ALB
    /// passes WebSockets; nginx only with Upgrade and Connection set again, as they are hop-by-hop) so that exec works.</summary>
    private string NginxServers(string serverCert, string serverKey) => NginxBlocks.ConnectionUpgradeMap + "\n" +
        NginxBlocks.Server(AlbPort, serverCert, serverKey, server: NginxBlocks.AskForAnyClientCertificate, location: $"""
            {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, HostCa)}
            {NginxBlocks.PassUpgradesOrClose}
            proxy_buffering off;
            {NginxBlocks.AlbRequestHeaders}
            proxy_set_header {SecretHeader} "{AlbSecret}";
            """);

    /// <summary>The kubeconfig plain kubectl uses straight at Gatehouse: server https://127.0.0.1:PORT/kube/dev.</summary>
    internal string DirectServer => $"https://127.0.0.1:{Proxy.Port}/kube/{ClusterName}";

    /// <summary>Through the nginx ALB: server https://127.0.0.1:ALB/kube/dev, trusting the balancer's CA.</summary>
    internal string AlbServer => $"https://127.0.0.1:{AlbPort}/kube/{ClusterName}";

    /// <summary>Writes a kubeconfig (and a HOME for kubectl's discovery cache) and returns the environment to run kubectl with.</summary>
    internal async Task<Dictionary<string, string>> KubeconfigAsync(string server, string certificateAuthority, IssuedCertificate? user,
        string? tlsServerName = null)
    {
        var n = Interlocked.Increment(ref _kubeconfigs);
        var home = _dir.File($"kube-home-{n}");
        Directory.CreateDirectory(home);
        var file = Path.Combine(home, "kubeconfig");
        // Without a certificate, a token: with no credentials at all kubectl would prompt for a password on stdin.
        var credentials = user is null ? "{ token: not-a-gatehouse-credential }" : $$"""{ client-certificate: "{{user.Certificate}}", client-key: "{{user.Key}}" }""";
        await File.WriteAllTextAsync(file, $$"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: gatehouse
                cluster: { server: "{{server}}", certificate-authority: "{{certificateAuthority}}"{{(tlsServerName is null ? "" : $", tls-server-name: {tlsServerName}")}} }
            users:
              - name: me
                user: {{credentials}}
            contexts:
              - name: gatehouse
                context: { cluster: gatehouse, user: me, namespace: default }
            current-context: gatehouse
            """);
        return new Dictionary<string, string> { ["KUBECONFIG"] = file, ["HOME"] = home };
    }

    internal static Task<ProcessResult> KubectlAsync(Dictionary<string, string> environment, params string[] args) =>
        KubectlWithStdinAsync(environment, null, args);

    /// <summary>kubectl with <paramref name="stdin"/> written to it and then closed (exec -i reads it to the end).</summary>
    internal static async Task<ProcessResult> KubectlWithStdinAsync(Dictionary<string, string> environment, string? stdin, params string[] args)
    {
        var result = await Peer.RunAsync("kubectl", ["--request-timeout=20s", .. args], stdin, timeout: TimeSpan.FromSeconds(40), environment: environment);
        // kubectl up to 1.33 starts reading the exec WebSocket before it has made its stdout/stderr/status pipes, and drops
        // a message that arrives in between, saying so on stderr (kubernetes/kubernetes#131189, fixed in client-go 1.34).
        // The message reached kubectl, so Gatehouse delivered it; run the command once more. Any other loss still fails.
        if (KubectlDroppedAMessage(result))
            result = await Peer.RunAsync("kubectl", ["--request-timeout=20s", .. args], stdin, timeout: TimeSpan.FromSeconds(40), environment: environment);
        return result;
    }

    /// <summary>kubectl's own line for a message it received on a channel it had not opened yet (client-go's readDemuxLoop).</summary>
    internal static bool KubectlDroppedAMessage(ProcessResult result) =>
        result.Stderr.Contains("Unknown stream id", StringComparison.Ordinal) && result.Stderr.Contains("discarding message", StringComparison.Ordinal);

    public async Task DisposeAsync()
    {
        if (Nginx is not null) await Nginx.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        if (Api is not null) await Api.DisposeAsync();
        if (CertApi is not null) await CertApi.DisposeAsync();
        _dir.Dispose();
    }
}
