using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>
/// TLS session resumption on the one port (issue 17): the proxy resumes TLS 1.2 and 1.3 sessions, and a resumed session
/// carries the client certificate that was presented in the full handshake — openssl resumes it here without the key.
/// Identity is judged after every handshake, resumed or not, with the trust view of that moment, so a user revoked
/// after the session was made is refused when the session is resumed, on the web side and on gatehouse-tcp alike.
/// </summary>
public sealed class SessionResumptionTests : IAsyncLifetime
{
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        // An app on a closed port: a dial that gets as far as "unreachable" has passed the identity and role checks.
        _proxy = await ProxyUnderTest.StartAsync("resumption", $"""
            resources:
              tcp_apps:
                - name: closed
                  addr: 127.0.0.1:{Peer.FreePort()}
                  labels: {"{"} env: dev {"}"}
            """);
        await _proxy.ApplyRoleAsync("dev", "allow:\n  app_labels: { env: dev }");
    }

    public Task DisposeAsync() => _proxy.DisposeAsync().AsTask();

    [Theory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task A_resumed_session_keeps_the_verified_identity_and_a_revoked_user_is_refused_on_resumption(string version)
    {
        var alice = await _proxy.IssueAsync("alice", "--roles", "dev");
        var session = _proxy.File($"session{version}.pem");
        const string whoami = "GET /v1/whoami HTTP/1.1\r\nHost: gatehouse.internal\r\nConnection: close\r\n\r\n";

        // A full handshake with the certificate; the session (a TLS 1.3 ticket arrives after the handshake) is saved.
        var full = await SClientAsync(version, whoami, ["-cert", alice.Certificate, "-key", alice.Key, "-sess_out", session]);
        Assert.Contains("New, TLS", full.Stdout);
        Assert.Contains("\"user\":\"alice\"", full.Stdout);

        // Resumed with no certificate and no key: the session's certificate is alice's, judged again.
        var web = await SClientAsync(version, whoami, ["-sess_in", session]);
        Assert.Contains("Reused, TLS", web.Stdout);
        Assert.Contains("\"user\":\"alice\"", web.Stdout);
        var dial = await SClientAsync(version, DialFrame("closed"), ["-alpn", "gatehouse-tcp", "-sess_in", session]);
        Assert.Contains("Reused, TLS", dial.Stdout);
        Assert.Contains("\"code\":\"unreachable\"", dial.Stdout);

        // Revoked: the next resumption of the same session is refused on both sides (the revocation reaches the proxy's
        // trust view within its refresh, so wait for it with a deadline).
        (await _proxy.Admin.RunAsync("admin", "certs", "revoke", alice.Serial)).EnsureSuccess("certs revoke");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        ProcessResult refused;
        while (!(refused = await SClientAsync(version, whoami, ["-sess_in", session])).Stdout.Contains("was revoked"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"a resumed session of a revoked user was still served:\n{refused.Output}");
            await Task.Delay(200);
        }
        Assert.Contains("Reused, TLS", refused.Stdout);
        Assert.Contains("401", refused.Stdout);
        Assert.DoesNotContain("\"user\":\"alice\"", refused.Stdout);
        var refusedDial = await SClientAsync(version, DialFrame("closed"), ["-alpn", "gatehouse-tcp", "-sess_in", session]);
        Assert.Contains("Reused, TLS", refusedDial.Stdout);
        Assert.Contains("\"code\":\"unauthenticated\"", refusedDial.Stdout);
        Assert.Contains("was revoked", refusedDial.Stdout);
    }

    /// <summary>openssl s_client sends <paramref name="input"/> and reads until the proxy closes (-ign_eof), which also
    /// lets a TLS 1.3 ticket arrive before the session is saved.</summary>
    private Task<ProcessResult> SClientAsync(string version, string input, string[] options) =>
        Peer.RunAsync("openssl", ["s_client", version, "-connect", _proxy.Address, "-servername", "gatehouse.internal", "-ign_eof", .. options],
            stdin: input);

    /// <summary>The dial frame: a 4-byte big-endian length and the JSON (short and ASCII, so it travels as text on stdin).</summary>
    private static string DialFrame(string target)
    {
        var json = $"{{\"target\":\"{target}\"}}";
        return $"\0\0\0{(char)json.Length}{json}";
    }
}
