using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.EndToEnd.Balancers;

namespace Gatehouse.EndToEnd.Apps;

/// <summary>HTTP apps with real clients: curl with a client certificate, straight at Gatehouse and through nginx playing
/// an mTLS ALB, and .NET's ClientWebSocket for an upgrade through the forwarder.</summary>
[Collection(HttpAppsCollection.Name)]
public sealed class HttpAppTests(HttpAppsCluster cluster)
{
    [Fact]
    public async Task A_client_certificate_reaches_the_app_with_a_verifiable_assertion_and_no_certificate_or_impersonation_headers()
    {
        var answer = await cluster.CurlDirectAsync("/apps/echo/hello?x=1", cluster.Alice,
            "-H", "Impersonate-User: root", "-H", "Impersonate-Group: system:masters", "-H", "X-Amzn-Mtls-Clientcert: forged",
            "-H", "Gatehouse-Jwt-Assertion: forged.by.client");

        Assert.True(answer.Status == 200, answer.ToString());
        Assert.Equal("/hello", answer.Get("path"));
        Assert.Equal("?x=1", answer.Get("query"));
        var headers = answer.Headers;
        Assert.DoesNotContain(headers.Keys, h => h.StartsWith("impersonate-", StringComparison.Ordinal));
        Assert.DoesNotContain("x-amzn-mtls-clientcert", headers.Keys);
        Assert.DoesNotContain(HttpAppsCluster.SecretHeader.ToLowerInvariant(), headers.Keys);
        Assert.Equal("127.0.0.1", headers["x-forwarded-for"]);
        Assert.Equal("https", headers["x-forwarded-proto"]);
        Assert.Equal($"127.0.0.1:{cluster.Proxy.Port}", headers["x-forwarded-host"]);

        var claims = await AssertionCheck.VerifiedClaimsAsync(cluster, headers["gatehouse-jwt-assertion"]);
        Assert.Equal("alice", claims.GetProperty("sub").GetString());
        Assert.Equal("alice", claims.GetProperty("username").GetString());
        Assert.Equal(["dev"], claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(cluster.Echo.Url + "/", claims.GetProperty("aud").GetString());
        Assert.Equal($"https://127.0.0.1:{cluster.Proxy.Port}", claims.GetProperty("iss").GetString());
        var lifetime = claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64();
        Assert.InRange(lifetime, 1, 300);
    }

    [Fact]
    public async Task Through_an_mTLS_balancer_the_forwarded_certificate_is_the_identity()
    {
        var answer = await cluster.CurlViaAlbAsync("/apps/echo/via-alb", cluster.Alice);

        Assert.True(answer.Status == 200, answer.ToString());
        Assert.Equal("/via-alb", answer.Get("path"));
        Assert.DoesNotContain("x-amzn-mtls-clientcert", answer.Headers.Keys);
        Assert.DoesNotContain(HttpAppsCluster.SecretHeader.ToLowerInvariant(), answer.Headers.Keys);
        var claims = await AssertionCheck.VerifiedClaimsAsync(cluster, answer.Headers["gatehouse-jwt-assertion"]);
        Assert.Equal("alice", claims.GetProperty("sub").GetString());
    }

    /// <summary>Spellings a CGI-style app (WSGI, PHP, Rack: HTTP_IMPERSONATE_USER) reads as the proxy's own headers.</summary>
    private static readonly string[] UnderscoreSpellings =
    [
        "Impersonate_User: root", "Impersonate_Group: system:masters", "Impersonate-Extra_scopes: all", "Gatehouse_Jwt_Assertion: forged.by.client",
        "X_Forwarded_For: 203.0.113.66", "X_Forwarded_Host: evil.example", "X_Amzn_Mtls_Clientcert_Leaf: forged",
        $"{HttpAppsCluster.SecretHeader.Replace('-', '_')}: forged",
    ];

    [Fact]
    public async Task Underscore_spellings_of_the_proxys_headers_never_reach_the_app()
    {
        var direct = await cluster.CurlDirectAsync("/apps/echo/underscores", cluster.Alice,
            [.. UnderscoreSpellings.SelectMany(h => new[] { "-H", h }), "-H", "X_Amzn_Mtls_Clientcert: forged"]);

        Assert.True(direct.Status == 200, direct.ToString());
        Assert.DoesNotContain(direct.Headers.Keys, k => k.Contains('_', StringComparison.Ordinal));
        Assert.Equal("127.0.0.1", direct.Headers["x-forwarded-for"]);
        Assert.Equal("alice", (await AssertionCheck.VerifiedClaimsAsync(cluster, direct.Headers["gatehouse-jwt-assertion"])).GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Through_a_front_an_underscore_spelling_of_its_certificate_header_is_neither_honoured_nor_passed_on()
    {
        // nginx here passes underscored names on; the client puts bob's certificate under the front's header name with '_'.
        var bobs = ForgeryTests.ForgedHeaders("aws-alb-passthrough", cluster.Bob.Certificate).Single();
        string[] forged = ["-H", $"{bobs.Name.Replace('-', '_')}: {bobs.Value}", .. UnderscoreSpellings.SelectMany(h => new[] { "-H", h })];

        var withCertificate = await cluster.CurlViaAlbAsync("/apps/echo/underscores", cluster.Alice, forged);
        var withoutCertificate = await cluster.CurlViaAlbAsync("/apps/echo/underscores", certificate: null, forged);

        Assert.True(withCertificate.Status == 200, withCertificate.ToString());
        Assert.DoesNotContain(withCertificate.Headers.Keys, k => k.Contains('_', StringComparison.Ordinal));
        var claims = await AssertionCheck.VerifiedClaimsAsync(cluster, withCertificate.Headers["gatehouse-jwt-assertion"]);
        Assert.Equal("alice", claims.GetProperty("sub").GetString()); // the front's own header, not the client's '_' copy
        Assert.True(withoutCertificate.Status == 401, withoutCertificate.ToString());
        var audit = await cluster.Proxy.AuditAsync("--type", "forged_client_cert_header");
        Assert.Contains(audit, e => ForgeryTests.Text(e, "reason") is { } r
            && r.Contains($"front '{HttpAppsCluster.AlbFront}' does not send", StringComparison.Ordinal) && r.Contains("x_amzn_mtls_clientcert", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_role_that_does_not_allow_the_app_gets_403_with_the_reason()
    {
        var answer = await cluster.CurlDirectAsync("/apps/echo/", cluster.Bob);

        Assert.True(answer.Status == 403, answer.ToString());
        Assert.Contains("echo", answer.Get("error"), StringComparison.Ordinal);

        var page = await cluster.CurlViaAlbAsync("/apps/echo/", cluster.Bob, "-H", "Accept: text/html");
        Assert.True(page.Status == 403, page.ToString());
        Assert.Contains("<h1>Access denied</h1>", page.Body, StringComparison.Ordinal);

        var audit = await cluster.Proxy.AuditAsync("--type", "access.decision", "--user", "bob");
        Assert.Contains(audit, e => e.GetProperty("resource").GetString() == "http-app:echo" && e.GetProperty("decision").GetString() == "denied");
    }

    [Fact]
    public async Task No_certificate_is_401()
    {
        var answer = await cluster.CurlDirectAsync("/apps/echo/", certificate: null);

        Assert.True(answer.Status == 401, answer.ToString());
        Assert.Contains("no client certificate", answer.Get("error"), StringComparison.Ordinal);
        Assert.Equal(401, (await cluster.CurlViaAlbAsync("/apps/echo/", certificate: null)).Status);
    }

    [Fact]
    public async Task An_app_that_is_down_is_502_naming_the_app()
    {
        var answer = await cluster.CurlDirectAsync("/apps/down/", cluster.Alice);

        Assert.True(answer.Status == 502, answer.ToString());
        Assert.Contains("app 'down'", answer.Get("error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_WebSocket_round_trips_through_the_forwarder()
    {
        using var certificate = X509Certificate2.CreateFromPemFile(cluster.Alice.Certificate, cluster.Alice.Key);
        using var hostCa = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(cluster.HostCa));
        using var socket = new ClientWebSocket();
        socket.Options.ClientCertificates.Add(certificate);
        socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) => TrustedBy(hostCa, presented);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{cluster.Proxy.Port}/apps/echo/ws"), timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("hello through gatehouse"), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[256];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        Assert.Equal("hello through gatehouse", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    private static bool TrustedBy(X509Certificate2 root, X509Certificate? presented)
    {
        if (presented is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        using var leaf = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var ok = chain.Build(leaf);
        foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        return ok;
    }
}
