using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Routing;

namespace Gatehouse.EndToEnd.Routing;

/// <summary>
/// The gatehouse-tcp ALPN on the one TLS port, spoken by a tiny client of the test's (SslStream + the dial frame), so
/// every refusal is seen as the proxy answers it: no certificate, a revoked one, one from another CA, a user whose
/// roles do not cover the app, an app that does not exist. Each decision is audited with the client's address; the
/// client connects from 127.0.0.5 so that address is unmistakably the one the proxy saw.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class ServiceSecurityTests(RoutingCluster cluster)
{
    private const string ClientAddress = "127.0.0.5";

    [Fact]
    public async Task Without_a_client_certificate_the_answer_is_unauthenticated_with_a_sentence()
    {
        var answer = await DialAsync(null, "echo");

        Assert.False(answer.Ok);
        Assert.Equal(DialCodes.Unauthenticated, answer.Code);
        Assert.Contains("no client certificate was presented", answer.Error);
    }

    [Fact]
    public async Task A_revoked_certificate_is_refused_as_a_crl_hit_within_the_refresh()
    {
        var issued = await cluster.Proxy.IssueAsync("revoked-user", "--roles", "dev");
        using var certificate = Load(issued);
        var before = await DialAsync(certificate, "echo");
        Assert.True(before.Ok, before.ToString());

        (await cluster.Proxy.Admin.RunAsync("admin", "certs", "revoke", issued.Serial, "--reason", "key-compromise")).EnsureSuccess("certs revoke");

        // The proxy reloads its trust store (and so the CRL) on its own refresh: poll with a deadline.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var after = before;
        while (after.Ok)
        {
            Assert.True(DateTime.UtcNow < until, "the revocation did not reach the proxy within 20 s");
            await Task.Delay(200);
            after = await DialAsync(certificate, "echo");
        }
        Assert.Equal(DialCodes.Unauthenticated, after.Code);
        Assert.Contains("ClientCertCrlHit", after.Error);
    }

    [Fact]
    public async Task A_certificate_from_another_ca_is_unauthenticated_as_untrusted()
    {
        var stranger = await OpensslCa.RootAsync(cluster.Proxy.Directory, "stranger-ca", "/O=Elsewhere/CN=Stranger CA");
        var (cert, key) = await stranger.ClientAsync("stranger", "/O=routing/CN=stranger");
        using var certificate = LoadPem(cert, key);

        var answer = await DialAsync(certificate, "echo");

        Assert.Equal(DialCodes.Unauthenticated, answer.Code);
        Assert.Contains("ClientCertUntrusted", answer.Error);
        var audited = (await cluster.Proxy.AuditAsync("--type", "access.decision"))
            .FirstOrDefault(e => Text(e, "reason")?.StartsWith("ClientCertUntrusted", StringComparison.Ordinal) == true);
        Assert.True(audited.ValueKind == JsonValueKind.Object, "no access.decision audit event for the untrusted certificate");
        Assert.Equal("denied", Text(audited, "decision"));
        Assert.Equal(ClientAddress, Text(audited, "source_ip"));
    }

    [Fact]
    public async Task A_user_whose_roles_do_not_allow_the_app_is_denied_with_the_app_named_and_audited()
    {
        using var certificate = Load(await cluster.Proxy.IssueAsync("ops-user", "--roles", "ops")); // ops allows env: prod only

        var answer = await DialAsync(certificate, "echo");

        Assert.False(answer.Ok);
        Assert.Equal(DialCodes.Denied, answer.Code);
        Assert.Contains("app 'echo'", answer.Error);
        var audited = Assert.Single(await cluster.Proxy.AuditAsync("--type", "access.decision", "--user", "ops-user"));
        Assert.Equal("denied", Text(audited, "decision"));
        Assert.Equal("tcp-app:echo", Text(audited, "resource"));
        Assert.Equal(ClientAddress, Text(audited, "source_ip"));
        Assert.Equal("handshake", Text(audited, "identity_source"));
        Assert.Equal("direct", audited.GetProperty("details").GetProperty("arrival").GetString());
    }

    [Fact]
    public async Task An_allowed_dial_is_audited_and_an_unknown_app_is_not_found()
    {
        using var certificate = Load(await cluster.Proxy.IssueAsync("dev-user", "--roles", "dev"));

        var allowed = await DialAsync(certificate, "echo");
        var unknown = await DialAsync(certificate, "no-such-app");

        Assert.True(allowed.Ok, allowed.ToString());
        Assert.False(unknown.Ok);
        Assert.Equal(DialCodes.NotFound, unknown.Code);
        Assert.Contains("there is no TCP app named 'no-such-app'", unknown.Error);
        Assert.Contains("echo", unknown.Error); // what the proxy does serve
        var audited = Assert.Single(await cluster.Proxy.AuditAsync("--type", "access.decision", "--user", "dev-user"));
        Assert.Equal("allowed", Text(audited, "decision"));
        Assert.Equal(ClientAddress, Text(audited, "source_ip"));
    }

    /// <summary>One dial: TCP from <see cref="ClientAddress"/>, TLS with ALPN gatehouse-tcp to gatehouse.internal
    /// (host CA only), the client certificate when given, the dial frame, the answer.</summary>
    private async Task<DialAnswer> DialAsync(X509Certificate2? certificate, string target)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(ClientAddress), 0));
        await socket.ConnectAsync(IPAddress.Loopback, cluster.Proxy.Port, timeout.Token);
        using var hostCa = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(cluster.HostCa));
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = ProxyProtocol.InternalHostName,
            ApplicationProtocols = [new SslApplicationProtocol(AlpnProtocols.Tcp)],
            ClientCertificateContext = certificate is null ? null : SslStreamCertificateContext.Create(certificate, null),
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { hostCa },
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
            },
        }, timeout.Token);
        Assert.Equal(AlpnProtocols.Tcp, tls.NegotiatedApplicationProtocol.ToString());
        await DialFrames.WriteAsync(tls, new DialRequest(target), timeout.Token);
        var (answer, error) = await DialFrames.ReadAnswerAsync(tls, timeout.Token);
        Assert.True(answer is not null, $"no answer to the dial frame: {error}\nproxy:\n{cluster.Proxy.Output}");
        return answer;
    }

    private static X509Certificate2 Load(IssuedCertificate issued) => LoadPem(issued.Certificate, issued.Key);

    private static X509Certificate2 LoadPem(string certificate, string key) => X509Certificate2.CreateFromPemFile(certificate, key);

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
