using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Apps;

[CollectionDefinition(Name)]
public sealed class HttpAppsCollection : ICollectionFixture<HttpAppsCluster>
{
    public const string Name = "HttpApps";
}

/// <summary>
/// One Gatehouse proxy (public_addr 127.0.0.1 and <see cref="PublicName"/>) serving three HTTP apps — <c>echo</c> (a
/// <see cref="HeaderEchoApp"/>, labels env: dev, public_host <see cref="EchoPublicHost"/>), <c>echo-rw</c> (the same app with
/// rewrite_redirects) and <c>down</c> (a port nothing listens on) — and nginx in front of it playing an AWS ALB in
/// passthrough mode, configured as <see cref="BalancerCluster"/> does (<c>optional_no_ca</c>, <c>X-Amzn-Mtls-Clientcert</c>,
/// a shared secret). Role dev allows env: dev, role ops only env: prod, role web env: dev with max_session_ttl 30m; alice
/// has dev, bob has ops (certificates); carol, erin, frank and grace have web, dave ops (users with <see cref="ProxyUnderTest.Password"/>, for
/// browser sign-in).
/// </summary>
public sealed class HttpAppsCluster : IAsyncLifetime
{
    public const string SecretHeader = "X-Gatehouse-Front-Secret";
    public const string AlbFront = "nginx-alb";
    /// <summary>A DNS name in proxy.public_addr: the host certificate covers it and *.it, so echo is at echo.gatehouse.test.</summary>
    public const string PublicName = "gatehouse.test";
    /// <summary>echo's public_host: under the public name, so the proxy's own certificate covers it (*.gatehouse.test).</summary>
    public const string EchoPublicHost = "portal.gatehouse.test";
    public const string KubeCluster = "k";

    public string AlbSecret { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    public int AlbPort { get; } = Peer.FreePort();

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal HeaderEchoApp Echo { get; private set; } = null!;
    internal NginxPeer Nginx { get; private set; } = null!;
    internal IssuedCertificate Alice { get; private set; } = null!;
    internal IssuedCertificate Bob { get; private set; } = null!;

    public string HostCa { get; private set; } = "";
    public string BalancerCa { get; private set; } = "";

    /// <summary>Files the configuration needs before the proxy's directory exists (the kube cluster's CA and token).</summary>
    private readonly TempDirectory _setup = new();

    public async Task InitializeAsync()
    {
        Echo = await HeaderEchoApp.StartAsync();
        var downPort = Peer.FreePort();
        // A Kubernetes cluster nobody serves: enough to show that a web session is no identity for /kube/.
        using (var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        using (var ca = new CertificateRequest("CN=Unused Kube CA", caKey, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1)))
            await File.WriteAllTextAsync(_setup.File("kube-ca.pem"), ca.ExportCertificatePem());
        await File.WriteAllTextAsync(_setup.File("kube-token"), "unused-token\n");
        Proxy = await ProxyUnderTest.CreateAsync("apps", $$"""
            resources:
              http_apps:
                - name: echo
                  uri: {{Echo.Url}}
                  labels: { env: dev }
                  public_host: {{EchoPublicHost}}
                - name: echo-rw
                  uri: {{Echo.Url}}
                  labels: { env: dev }
                  rewrite_redirects: true
                - name: down
                  uri: http://127.0.0.1:{{downPort}}
                  labels: { env: dev }
              kube_clusters:
                - name: {{KubeCluster}}
                  api_server: https://127.0.0.1:{{downPort}}
                  ca_file: {{_setup.File("kube-ca.pem")}}
                  token_file: {{_setup.File("kube-token")}}
                  labels: { env: dev }
            """, new Dictionary<string, string> { ["GH_FRONT_SECRET_ALB"] = AlbSecret }, $$"""
            trusted_proxies: [127.0.0.1/32]
            trusted_fronts:
              - name: {{AlbFront}}
                format: aws-alb-passthrough
                source_cidrs: [127.0.0.1/32]
                shared_secret_header: { name: {{SecretHeader}}, value_env: GH_FRONT_SECRET_ALB }
            """, publicAddr: $"[127.0.0.1, {PublicName}]");
        await Proxy.StartProxyAsync();
        await Proxy.ApplyRoleAsync("dev", """
            allow:
              app_labels: { env: dev }
            """);
        await Proxy.ApplyRoleAsync("ops", """
            allow:
              app_labels: { env: prod }
            """);
        await Proxy.ApplyRoleAsync("web", """
            allow:
              app_labels: { env: dev }
            options: { max_session_ttl: 30m }
            """);
        await Proxy.AddUserAsync("carol", "--roles", "web", "--traits", "logins=carol");
        await Proxy.AddUserAsync("dave", "--roles", "ops");
        await Proxy.AddUserAsync("erin", "--roles", "web");
        await Proxy.AddUserAsync("frank", "--roles", "web");
        await Proxy.AddUserAsync("grace", "--roles", "web");
        HostCa = await Proxy.ExportHostCaAsync();
        Alice = await Proxy.IssueAsync("alice", "--roles", "dev");
        Bob = await Proxy.IssueAsync("bob", "--roles", "ops");

        var balancerCa = await OpensslCa.RootAsync(Proxy.Directory, "balancer-ca", "/O=Balancers/CN=Apps Balancer CA");
        BalancerCa = balancerCa.Certificate;
        var (serverCert, serverKey) = await balancerCa.ServerAsync("balancer-server");
        Nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxServers(serverCert, serverKey)), AlbPort);
    }

    /// <summary>nginx as an ALB in passthrough mode, as in <see cref="BalancerCluster"/>, passing underscored header names on
    /// as some balancers do (nginx's default drops them).</summary>
    private string NginxServers(string serverCert, string serverKey) =>
        NginxBlocks.Server(AlbPort, serverCert, serverKey, server: NginxBlocks.AskForAnyClientCertificate + "\nunderscores_in_headers on;", location: $"""
            {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, HostCa)}
            {NginxBlocks.PassUpgrades}
            {NginxBlocks.AlbRequestHeaders}
            proxy_set_header {SecretHeader} "{AlbSecret}";
            """);

    /// <summary>curl straight at Gatehouse: <c>https://127.0.0.1:PORT{path}</c>, with the certificate when given.</summary>
    internal Task<HttpAnswer> CurlDirectAsync(string path, IssuedCertificate? certificate, params string[] options) =>
        CurlAsync([.. Cert(certificate), "--cacert", HostCa, .. options, $"https://127.0.0.1:{Proxy.Port}{path}"]);

    /// <summary>curl through the nginx ALB.</summary>
    internal Task<HttpAnswer> CurlViaAlbAsync(string path, IssuedCertificate? certificate, params string[] options) =>
        CurlAsync([.. Cert(certificate), "--cacert", BalancerCa, .. options, $"https://127.0.0.1:{AlbPort}{path}"]);

    /// <summary>curl straight at Gatehouse under another host name (<c>--resolve NAME:PORT:127.0.0.1</c>, so SNI and Host
    /// are NAME and the certificate is checked for it).</summary>
    internal Task<HttpAnswer> CurlAtHostAsync(string host, string path, IssuedCertificate? certificate, params string[] options) =>
        CurlAsync([.. Cert(certificate), "--cacert", HostCa, "--resolve", $"{host}:{Proxy.Port}:127.0.0.1", .. options, $"https://{host}:{Proxy.Port}{path}"]);

    /// <summary>Like <see cref="CurlDirectAsync"/> (or <see cref="CurlAtHostAsync"/> with a host), and also returns the
    /// response headers (curl -D).</summary>
    internal async Task<(HttpAnswer Answer, ResponseHeaders Headers)> CurlWithHeadersAsync(string? host, string path, IssuedCertificate? certificate,
        params string[] options)
    {
        var file = Proxy.File($"headers-{Guid.NewGuid():N}.txt");
        var answer = host is null ? await CurlDirectAsync(path, certificate, ["-D", file, .. options])
            : await CurlAtHostAsync(host, path, certificate, ["-D", file, .. options]);
        return (answer, new ResponseHeaders(await File.ReadAllTextAsync(file)));
    }

    private static string[] Cert(IssuedCertificate? certificate) =>
        certificate is null ? [] : ["--cert", certificate.Certificate, "--key", certificate.Key];

    private static async Task<HttpAnswer> CurlAsync(string[] args)
    {
        var result = await Peer.RunAsync("curl", ["-sS", "--max-time", "60", "-w", "\n%{http_code}", .. args], timeout: TimeSpan.FromSeconds(90));
        result.EnsureSuccess("curl " + string.Join(' ', args));
        var cut = result.Stdout.LastIndexOf('\n');
        var body = result.Stdout[..cut];
        JsonElement? json = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            json = document.RootElement.Clone();
        }
        catch (JsonException) { }
        return new HttpAnswer(int.Parse(result.Stdout[(cut + 1)..], CultureInfo.InvariantCulture), body, json);
    }

    public async Task DisposeAsync()
    {
        if (Nginx is not null) await Nginx.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        if (Echo is not null) await Echo.DisposeAsync();
        _setup.Dispose();
    }
}

/// <summary>Response headers as curl -D wrote them (the last response's, when curl followed none).</summary>
internal sealed record ResponseHeaders(string Raw)
{
    public IReadOnlyList<string> All(string name) =>
        [.. Raw.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)).Select(l => l[(name.Length + 1)..].Trim())];

    public string? Get(string name) => All(name) is [var first, ..] ? first : null;
}

/// <summary>Status and body of an HTTP answer; the body as JSON when it is JSON.</summary>
internal sealed record HttpAnswer(int Status, string Body, JsonElement? Json)
{
    public string? Get(string property) =>
        Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;

    /// <summary>For the echo app's answer: the headers the app received (lower-case names).</summary>
    public IReadOnlyDictionary<string, string> Headers =>
        Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("headers", out var headers)
            ? headers.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "") : new Dictionary<string, string>();

    public override string ToString() => $"{Status} {Body}";
}
