using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse.Edge.Tests.Conformance;

/// <summary>
/// Verify mode refuses at the TLS level, as the ALB does, and says why in the connection log's tls_verify_status (spec
/// §1.8): expired, revoked (CRL), untrusted, X.509v1, RSA-1024 and SHA-1 certificates; ignore_client_certificate_expiry
/// lets the expired one through. The connection-log line and the access-log line share the conn_trace_id.
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed partial class VerifyRefusalTests(ConformanceEdge fixture)
{
    public static TheoryData<string, string> Refusals => new()
    {
        { "expired", "ClientCertExpired" },
        { "revoked", "ClientCertCrlHit" },
        { "untrusted", "ClientCertUntrusted" },
        { "version1", "ClientCertTypeUnsupported" },
        { "rsa1024", "ClientCertTypeUnsupported" },
        { "sha1", "ClientCertTypeUnsupported" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_certificate_fails_the_handshake_and_the_connection_log_says_why(string which, string status)
    {
        var client = which switch
        {
            "expired" => fixture.Expired, "revoked" => fixture.Revoked, "untrusted" => fixture.Untrusted, "version1" => fixture.Version1,
            "rsa1024" => fixture.Rsa1024, _ => fixture.Sha1,
        };
        var answer = await fixture.Edge.CurlAsync(fixture.VerifyPort, "/refused", weak: true, EdgeUnderTest.Cert(client));

        Assert.True(answer.ExitCode != 0 && answer.Status == 0, $"the handshake should fail: {answer}");
        var subject = (await HeaderConformanceTests.OpensslAsync(client.CertificateFile))["subject"];
        var line = await EdgeUnderTest.WaitForLineAsync(fixture.Edge.ConnectionLog, l => l.Contains($"\"{subject}\"", StringComparison.Ordinal),
            $"connection-log line for {subject}");
        Assert.Equal($"Failed:{status}", Fields(line)[10]);
        Assert.Equal(fixture.VerifyPort.ToString(CultureInfo.InvariantCulture), Fields(line)[3]);
    }

    [Fact]
    public async Task Without_a_certificate_verify_mode_refuses_the_handshake()
    {
        var answer = await fixture.Edge.CurlAsync(fixture.VerifyPort, "/nocert");
        Assert.True(answer.ExitCode != 0 && answer.Status == 0, answer.ToString());
    }

    [Fact]
    public async Task Ignore_client_certificate_expiry_lets_the_expired_certificate_through_with_its_validity()
    {
        var answer = await fixture.Edge.CurlAsync(fixture.ExpiryIgnoredPort, "/expired-allowed", EdgeUnderTest.Cert(fixture.Expired));

        var headers = HeaderConformanceTests.Headers(answer);
        var validity = HeaderConformanceTests.Value(headers, "X-Amzn-Mtls-Clientcert-Validity");
        var notAfter = DateTime.ParseExact(validity[(validity.IndexOf("NotAfter=", StringComparison.Ordinal) + 9)..], "yyyy-MM-dd'T'HH:mm:ss'Z'",
            CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        Assert.True(notAfter < DateTime.UtcNow, validity);
        // The expired certificate is still refused where expiry is not ignored (same trust store).
        Assert.NotEqual(0, (await fixture.Edge.CurlAsync(fixture.VerifyPort, "/expired", EdgeUnderTest.Cert(fixture.Expired))).ExitCode);
    }

    [Fact]
    public async Task The_connection_and_access_log_lines_are_in_albs_field_order_and_linked_by_conn_trace_id()
    {
        var path = $"/golden-{Guid.NewGuid():N}";
        var answer = await fixture.Edge.CurlAsync(fixture.VerifyPort, path + "?q=1", [.. EdgeUnderTest.Cert(fixture.Alice, fixture.AliceChain), "--http1.1",
            "-A", "conformance \"agent\""]);
        Assert.Equal(200, answer.Status);

        var access = await EdgeUnderTest.WaitForLineAsync(fixture.Edge.AccessLog, l => l.Contains(path, StringComparison.Ordinal), "access-log line");
        var tid = access[(access.LastIndexOf(' ') + 1)..];
        Assert.Matches("^TID_[0-9a-f]{32}$", tid);
        var port = fixture.VerifyPort;
        Assert.Matches($"^https {Time} conformance 127\\.0\\.0\\.1:\\d+ 127\\.0\\.0\\.1:\\d+ 0\\.000 \\d+\\.\\d{{3}} 0\\.000 200 200 0 \\d+ " +
                       $"\"GET https://127\\.0\\.0\\.1:{port}{path}\\?q=1 HTTP/1\\.1\" \"conformance \\\\\"agent\\\\\"\" \\S+ TLSv1\\.[23] echo " +
                       $"\"Root=1-[0-9a-f]{{8}}-[0-9a-f]{{24}}\" \"-\" \"-\" 1 {Time} \"forward\" \"-\" \"-\" \"127\\.0\\.0\\.1:\\d+\" \"200\" \"-\" \"-\" {tid}$", access);

        var connection = await EdgeUnderTest.WaitForLineAsync(fixture.Edge.ConnectionLog, l => l.Contains(tid, StringComparison.Ordinal), "connection-log line");
        var leaf = fixture.Alice.Certificate;
        var openssl = await HeaderConformanceTests.OpensslAsync(fixture.Alice.CertificateFile);
        var validity = $"NotBefore={leaf.NotBefore.ToUniversalTime():yyyy-MM-dd'T'HH:mm:ss'Z'};NotAfter={leaf.NotAfter.ToUniversalTime():yyyy-MM-dd'T'HH:mm:ss'Z'}";
        Assert.Matches($"^{Time} 127\\.0\\.0\\.1 \\d+ {port} TLSv1\\.[23] \\S+ \\d+\\.\\d{{3}} \"{Regex.Escape(openssl["subject"])}\" {validity} {openssl["serial"]} " +
                       $"Success {tid} - conformance 127\\.0\\.0\\.1$", connection);
    }

    [Fact]
    public async Task Advertise_trust_store_ca_names_puts_the_bundles_cas_in_the_certificate_request()
    {
        async Task<string> CaNamesAsync(int port)
        {
            var result = await Gatehouse.Testing.Peer.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", fixture.Edge.ServerCa,
                "-cert", fixture.Alice.CertificateFile, "-key", fixture.Alice.KeyFile], stdin: "", timeout: TimeSpan.FromSeconds(30));
            var start = result.Stdout.IndexOf("client certificate CA names", StringComparison.Ordinal);
            Assert.True(start >= 0, result.Output);
            return result.Stdout[start..result.Stdout.IndexOf("---", start, StringComparison.Ordinal)];
        }

        var advertised = await CaNamesAsync(fixture.AdvertisingPort);
        Assert.Contains("Corp Root CA", advertised, StringComparison.Ordinal);
        Assert.Contains("Corp Issuing CA", advertised, StringComparison.Ordinal);
        Assert.DoesNotContain("Corp Root CA", await CaNamesAsync(fixture.VerifyPort), StringComparison.Ordinal);
    }

    private const string Time = @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z";

    /// <summary>The space-separated fields of a log line, a quoted field counted as one.</summary>
    private static List<string> Fields(string line) => [.. FieldPattern().Matches(line).Select(m => m.Value)];

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|\\S+")]
    private static partial Regex FieldPattern();
}
