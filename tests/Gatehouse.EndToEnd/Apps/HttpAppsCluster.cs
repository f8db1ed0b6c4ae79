using System.Globalization;
using System.Security.Cryptography;
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
/// One Gatehouse proxy serving two HTTP apps — <c>echo</c> (a <see cref="HeaderEchoApp"/>, labels env: dev) and
/// <c>down</c> (a port nothing listens on) — and nginx in front of it playing an AWS ALB in passthrough mode, configured
/// as <see cref="BalancerCluster"/> does (<c>optional_no_ca</c>, <c>X-Amzn-Mtls-Clientcert</c>, a shared secret).
/// Role dev allows env: dev, role ops only env: prod; alice has dev, bob has ops.
/// </summary>
public sealed class HttpAppsCluster : IAsyncLifetime
{
    public const string SecretHeader = "X-Gatehouse-Front-Secret";
    public const string AlbFront = "nginx-alb";

    public string AlbSecret { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    public int AlbPort { get; } = Peer.FreePort();

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal HeaderEchoApp Echo { get; private set; } = null!;
    internal NginxPeer Nginx { get; private set; } = null!;
    internal IssuedCertificate Alice { get; private set; } = null!;
    internal IssuedCertificate Bob { get; private set; } = null!;

    public string HostCa { get; private set; } = "";
    public string BalancerCa { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Echo = await HeaderEchoApp.StartAsync();
        var downPort = Peer.FreePort();
        Proxy = await ProxyUnderTest.CreateAsync("apps", $$"""
            resources:
              http_apps:
                - name: echo
                  uri: {{Echo.Url}}
                  labels: { env: dev }
                - name: down
                  uri: http://127.0.0.1:{{downPort}}
                  labels: { env: dev }
            """, new Dictionary<string, string> { ["GH_FRONT_SECRET_ALB"] = AlbSecret }, $$"""
            trusted_proxies: [127.0.0.1/32]
            trusted_fronts:
              - name: {{AlbFront}}
                format: aws-alb-passthrough
                source_cidrs: [127.0.0.1/32]
                shared_secret_header: { name: {{SecretHeader}}, value_env: GH_FRONT_SECRET_ALB }
            """);
        await Proxy.StartProxyAsync();
        await ApplyRoleAsync("dev", "env: dev");
        await ApplyRoleAsync("ops", "env: prod");
        HostCa = await Proxy.ExportHostCaAsync();
        Alice = await IssueAsync("alice", "--roles", "dev");
        Bob = await IssueAsync("bob", "--roles", "ops");

        var balancerCa = await OpensslCa.RootAsync(Proxy.Directory, "balancer-ca", "/O=Balancers/CN=Apps Balancer CA");
        BalancerCa = balancerCa.Certificate;
        var (serverCert, serverKey) = await balancerCa.ServerAsync("balancer-server");
        Nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxServers(serverCert, serverKey)), AlbPort);
    }

    /// <summary>nginx as an ALB in passthrough mode, as in <see cref="BalancerCluster"/>.</summary>
    private string NginxServers(string serverCert, string serverKey) => $$"""
        server {
            listen 127.0.0.1:{{AlbPort}} ssl;
            ssl_certificate     {{serverCert}};
            ssl_certificate_key {{serverKey}};
            ssl_verify_client   optional_no_ca;
            ssl_verify_depth    4;

            location / {
                proxy_pass https://127.0.0.1:{{Proxy.Port}};
                proxy_ssl_trusted_certificate {{HostCa}};
                proxy_ssl_verify on;
                proxy_ssl_name gatehouse.internal;
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection "upgrade";
                proxy_set_header X-Amzn-Mtls-Clientcert $ssl_client_escaped_cert;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header {{SecretHeader}} "{{AlbSecret}}";
            }
        }
        """;

    private async Task ApplyRoleAsync(string name, string appLabels)
    {
        var file = Proxy.File($"role-{name}.yaml");
        await File.WriteAllTextAsync(file, $$"""
            kind: role
            name: {{name}}
            allow:
              app_labels: { {{appLabels}} }
            """);
        (await Proxy.Admin.RunAsync("admin", "roles", "apply", file)).EnsureSuccess($"roles apply {name}");
    }

    private async Task<IssuedCertificate> IssueAsync(string user, params string[] options)
    {
        var dir = Proxy.File($"certs-{user}");
        var issued = (await Proxy.Admin.RunAsync(["admin", "certs", "issue", "--user", user, .. options, "--out", dir])).EnsureSuccess($"certs issue {user}");
        return new IssuedCertificate(Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"), issued.Stdout.Split('\n')[0].Trim());
    }

    /// <summary>curl straight at Gatehouse: <c>https://127.0.0.1:PORT{path}</c>, with the certificate when given.</summary>
    internal Task<HttpAnswer> CurlDirectAsync(string path, IssuedCertificate? certificate, params string[] options) =>
        CurlAsync([.. Cert(certificate), "--cacert", HostCa, .. options, $"https://127.0.0.1:{Proxy.Port}{path}"]);

    /// <summary>curl through the nginx ALB.</summary>
    internal Task<HttpAnswer> CurlViaAlbAsync(string path, IssuedCertificate? certificate, params string[] options) =>
        CurlAsync([.. Cert(certificate), "--cacert", BalancerCa, .. options, $"https://127.0.0.1:{AlbPort}{path}"]);

    private static string[] Cert(IssuedCertificate? certificate) =>
        certificate is null ? [] : ["--cert", certificate.Certificate, "--key", certificate.Key];

    private static async Task<HttpAnswer> CurlAsync(string[] args)
    {
        var result = await Peer.RunAsync("curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", .. args], timeout: TimeSpan.FromSeconds(30));
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
    }
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
