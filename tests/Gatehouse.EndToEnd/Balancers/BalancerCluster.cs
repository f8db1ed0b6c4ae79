using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

[CollectionDefinition(Name)]
public sealed class BalancerCollection : ICollectionFixture<BalancerCluster>
{
    public const string Name = "Balancers";
}

/// <summary>
/// One Gatehouse proxy with three trusted fronts on 127.0.0.1/32, and the real balancers in front of it:
/// nginx as an ALB in passthrough mode (<c>optional_no_ca</c>, <c>X-Amzn-Mtls-Clientcert</c>), nginx in its own
/// convention (<c>X-SSL-Client-Cert</c> + <c>X-SSL-Client-Verify</c>) and HAProxy (<c>X-SSL-Client-DER</c> +
/// <c>X-SSL-Client-Verify</c>). All three fronts share one network, so each balancer sends its own shared secret in
/// <see cref="SecretHeader"/> — which is how the proxy tells them apart, as an operator's would. A company PKI
/// (root → issuing CA) made with openssl is trusted, with a mapping rule for <c>*@corp.example</c>.
/// </summary>
public sealed class BalancerCluster : IAsyncLifetime
{
    public const string SecretHeader = "X-Gatehouse-Front-Secret";
    public const string AlbFront = "nginx-alb", NginxFront = "nginx", HaproxyFront = "haproxy";

    /// <summary>The issuing CA's name, as identity_mappings writes it (RFC 2253, most specific first).</summary>
    public const string CorpIssuingDn = "CN=Corp Issuing CA,O=Corp Example";

    public string AlbSecret { get; } = NewSecret();
    public string NginxSecret { get; } = NewSecret();
    public string HaproxySecret { get; } = NewSecret();

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal NginxPeer Nginx { get; private set; } = null!;
    internal HaproxyPeer Haproxy { get; private set; } = null!;
    internal OpensslCa CorpIssuing { get; private set; } = null!;

    public int AlbPort { get; } = Peer.FreePort();
    public int NginxPort { get; } = Peer.FreePort();
    public int HaproxyPort { get; } = Peer.FreePort();

    /// <summary>The CA the balancers' server certificates chain to (what curl trusts).</summary>
    public string BalancerCa { get; private set; } = "";

    /// <summary>alice's Gatehouse certificate: roles dev and ops.</summary>
    internal IssuedCertificate Alice { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["GH_FRONT_SECRET_ALB"] = AlbSecret,
            ["GH_FRONT_SECRET_NGINX"] = NginxSecret,
            ["GH_FRONT_SECRET_HAPROXY"] = HaproxySecret,
        };
        Proxy = await ProxyUnderTest.CreateAsync("balancers", $$"""
            trust:
              client_ca_files: [corp-bundle.pem]
            identity_mappings:
              - issuer: "{{CorpIssuingDn}}"
                san_email: "*@corp.example"
                user: "{email.local}"
                roles: [dev]
            """, environment, $"""
            trusted_proxies: [127.0.0.1/32]
            trusted_fronts:
              - name: {AlbFront}
                format: aws-alb-passthrough
                source_cidrs: [127.0.0.1/32]
                shared_secret_header: {"{"} name: {SecretHeader}, value_env: GH_FRONT_SECRET_ALB {"}"}
              - name: {NginxFront}
                format: nginx
                source_cidrs: [127.0.0.1/32]
                shared_secret_header: {"{"} name: {SecretHeader}, value_env: GH_FRONT_SECRET_NGINX {"}"}
              - name: {HaproxyFront}
                format: haproxy
                source_cidrs: [127.0.0.1/32]
                shared_secret_header: {"{"} name: {SecretHeader}, value_env: GH_FRONT_SECRET_HAPROXY {"}"}
            """);

        // The company PKI; the proxy trusts root and issuing CA (the bundle an operator would give it).
        var corpRoot = await OpensslCa.RootAsync(Proxy.Directory, "corp-root", "/O=Corp Example/CN=Corp Root CA");
        CorpIssuing = await corpRoot.IntermediateAsync("corp-issuing", "/O=Corp Example/CN=Corp Issuing CA");
        await File.WriteAllTextAsync(Proxy.File("corp-bundle.pem"),
            await File.ReadAllTextAsync(corpRoot.Certificate) + await File.ReadAllTextAsync(CorpIssuing.Certificate));

        await Proxy.StartProxyAsync();
        var hostCa = await Proxy.ExportHostCaAsync();
        var userCa = await Proxy.ExportUserCaAsync();
        Alice = await Proxy.IssueAsync("alice", "--roles", "dev,ops");

        var balancerCa = await OpensslCa.RootAsync(Proxy.Directory, "balancer-ca", "/O=Balancers/CN=Balancer Test CA");
        BalancerCa = balancerCa.Certificate;
        var (serverCert, serverKey) = await balancerCa.ServerAsync("balancer-server");
        // Every CA a client certificate may come from: what the verifying balancers (nginx format, HAProxy) check against.
        var clientCas = Proxy.File("client-cas.pem");
        await File.WriteAllTextAsync(clientCas, await File.ReadAllTextAsync(userCa) + await File.ReadAllTextAsync(Proxy.File("corp-bundle.pem")));

        Nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxServers(serverCert, serverKey, hostCa, clientCas)), AlbPort, NginxPort);
        var combined = Proxy.File("balancer-server-combined.pem");
        await File.WriteAllTextAsync(combined, await File.ReadAllTextAsync(serverCert) + await File.ReadAllTextAsync(serverKey));
        Haproxy = await HaproxyPeer.StartAsync(_ => Task.FromResult(HaproxySections(combined, hostCa, clientCas)), HaproxyPort);
    }

    /// <summary>The nginx configuration that docs/alb-mtls.md shows (server blocks inside http { }).</summary>
    private string NginxServers(string serverCert, string serverKey, string hostCa, string clientCas) => string.Concat(
        // AWS ALB in passthrough mode, played by nginx: ask for any client certificate, verify nothing, forward it.
        NginxBlocks.Server(AlbPort, serverCert, serverKey, server: $$"""
            {{NginxBlocks.AskForAnyClientCertificate}}

            # What this balancer would forward, for `gatehouse admin fronts test --header-file`.
            location = /captured-cert { return 200 $ssl_client_escaped_cert; }
            """, location: $"""
            {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, hostCa)}
            {NginxBlocks.AlbRequestHeaders}
            proxy_set_header {SecretHeader} "{AlbSecret}";
            """),

        // nginx's own convention: verify against the client CAs, forward the certificate and the verdict.
        NginxBlocks.Server(NginxPort, serverCert, serverKey, server: $"""
            ssl_client_certificate {clientCas};
            ssl_verify_client      optional;
            ssl_verify_depth       4;
            """, location: $"""
            {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, hostCa)}
            proxy_set_header X-SSL-Client-Cert   $ssl_client_escaped_cert;
            proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
            proxy_set_header X-Forwarded-For     $proxy_add_x_forwarded_for;
            proxy_set_header {SecretHeader} "{NginxSecret}";
            """));

    /// <summary>The HAProxy configuration that docs/alb-mtls.md shows (after the global section).</summary>
    private string HaproxySections(string combined, string hostCa, string clientCas) => $$"""
        defaults
            mode http
            log global
            option httplog
            timeout connect 5s
            timeout client 30s
            timeout server 30s

        frontend mtls
            # verify optional + ignore-err: every certificate is forwarded with its verify result; Gatehouse re-verifies.
            bind 127.0.0.1:{{HaproxyPort}} ssl crt {{combined}} verify optional ca-file {{clientCas}} ca-ignore-err all crt-ignore-err all
            option forwardfor
            http-request del-header X-SSL-Client-DER
            http-request del-header X-SSL-Client-Verify
            http-request set-header X-SSL-Client-DER %[ssl_c_der,base64] if { ssl_c_used }
            http-request set-header X-SSL-Client-Verify %[ssl_c_verify] if { ssl_c_used }
            http-request set-header {{SecretHeader}} {{HaproxySecret}}
            default_backend gatehouse

        backend gatehouse
            server gatehouse 127.0.0.1:{{Proxy.Port}} ssl verify required ca-file {{hostCa}}
        """;

    /// <summary>GET /v1/whoami through a balancer on <paramref name="port"/> with curl; the client certificate when given.</summary>
    internal Task<WhoAmIResponse> WhoAmIAsync(int port, IssuedCertificate? certificate, params string[] curlOptions) =>
        CurlAsync([.. certificate is null ? [] : new[] { "--cert", certificate.Certificate, "--key", certificate.Key }, "--cacert", BalancerCa,
            .. curlOptions, $"https://127.0.0.1:{port}/v1/whoami"]);

    /// <summary>GET <paramref name="path"/> through a balancer on <paramref name="port"/>, with the client certificate when given.</summary>
    internal Task<WhoAmIResponse> GetAsync(int port, IssuedCertificate? certificate, string path) =>
        CurlAsync([.. certificate is null ? [] : new[] { "--cert", certificate.Certificate, "--key", certificate.Key }, "--cacert", BalancerCa,
            $"https://127.0.0.1:{port}{path}"]);

    /// <summary>GET /v1/whoami straight at Gatehouse (no balancer), with the given curl options (headers, --interface).</summary>
    internal Task<WhoAmIResponse> WhoAmIDirectAsync(params string[] curlOptions) =>
        CurlAsync(["--cacert", Proxy.File("host-ca.pem"), .. curlOptions, $"https://127.0.0.1:{Proxy.Port}/v1/whoami"]);

    /// <summary>
    /// Polls whoami until <paramref name="done"/> holds, failing after <paramref name="deadline"/> with the last answer.
    /// </summary>
    internal static async Task<WhoAmIResponse> PollAsync(Func<Task<WhoAmIResponse>> request, Func<WhoAmIResponse, bool> done, TimeSpan deadline,
        string what)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            var response = await request();
            if (done(response)) return response;
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"{what}: not within {deadline}; last answer {response}");
            await Task.Delay(200);
        }
    }

    private static async Task<WhoAmIResponse> CurlAsync(string[] args)
    {
        var result = await Peer.RunAsync("curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", .. args], timeout: TimeSpan.FromSeconds(30));
        result.EnsureSuccess("curl " + string.Join(' ', args));
        var cut = result.Stdout.LastIndexOf('\n');
        var status = int.Parse(result.Stdout[(cut + 1)..], CultureInfo.InvariantCulture);
        var body = result.Stdout[..cut];
        JsonElement? json = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            json = document.RootElement.Clone();
        }
        catch (JsonException) { }
        return new WhoAmIResponse(status, body, json);
    }

    private static string NewSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public async Task DisposeAsync()
    {
        if (Haproxy is not null) await Haproxy.DisposeAsync();
        if (Nginx is not null) await Nginx.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
    }
}

/// <summary>What /v1/whoami answered: status, body, and the body as JSON when it is JSON.</summary>
internal sealed record WhoAmIResponse(int Status, string Body, JsonElement? Json)
{
    public string? Get(string property) =>
        Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;

    public string? User => Get("user");

    public string? Reason => Get("reason");

    public string? Error => Get("error");

    public IReadOnlyList<string> Roles =>
        Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("roles", out var roles)
            ? [.. roles.EnumerateArray().Select(r => r.GetString()!)] : [];

    public override string ToString() => $"{Status} {Body}";
}
