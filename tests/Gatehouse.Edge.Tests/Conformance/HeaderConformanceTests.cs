using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Conformance;

/// <summary>
/// The exact header set and encodings per mode (spec §1.3, §1.4), with golden values computed independently of the edge:
/// the PEM files with only ' ' and '\n' escaped (base64 never needs more, so '+', '=' and '/' stay literal), and
/// openssl's own serial and RFC 2253 names of the certificate. Client-sent copies never reach the target.
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed class HeaderConformanceTests(ConformanceEdge fixture)
{
    private static readonly string[] Forgeries =
    [
        "-H", "X-Amzn-Mtls-Clientcert: forged", "-H", "x-amzn-mtls-clientcert-subject: CN=admin", "-H", "X_Amzn_Mtls_Clientcert_Leaf: forged",
        "-H", "X-AMZN-MTLS-CLIENTCERT-SERIAL-NUMBER: 01", "-H", "X-Amzn-Mtls-Clientcert-Issuer: CN=forged", "-H", "X-Amzn-Mtls-Clientcert-Validity: forged",
    ];

    [Fact]
    public async Task Passthrough_sends_the_presented_chain_leaf_first_as_url_encoded_pem_with_plus_equals_and_slash_literal()
    {
        var answer = await fixture.Edge.CurlAsync(fixture.PassthroughPort, "/passthrough", [.. EdgeUnderTest.Cert(fixture.Alice, fixture.AliceChain), .. Forgeries]);

        var headers = MtlsHeaders(answer);
        var (name, value) = Assert.Single(headers);
        Assert.Equal("X-Amzn-Mtls-Clientcert", name);
        var golden = (File.ReadAllText(fixture.Alice.CertificateFile) + File.ReadAllText(fixture.Issuing.File)).Replace(" ", "%20").Replace("\n", "%0A");
        Assert.Equal(golden, value);
        Assert.Contains('+', value);
        Assert.Contains('=', value);
        Assert.DoesNotContain("%2B", value, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("%3D", value, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("%2F", value, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Passthrough_without_a_client_certificate_sends_no_certificate_header()
    {
        var answer = await fixture.Edge.CurlAsync(fixture.PassthroughPort, "/anonymous", Forgeries);

        Assert.Equal(200, answer.Status);
        Assert.Empty(MtlsHeaders(answer));
    }

    [Fact]
    public async Task Verify_sends_exactly_the_five_leaf_headers_with_openssls_serial_and_rfc2253_names()
    {
        var answer = await fixture.Edge.CurlAsync(fixture.VerifyPort, "/verify", [.. EdgeUnderTest.Cert(fixture.Alice, fixture.AliceChain), .. Forgeries]);

        var headers = MtlsHeaders(answer).ToDictionary(h => h.Name, h => h.Value);
        Assert.Equal(["X-Amzn-Mtls-Clientcert-Issuer", "X-Amzn-Mtls-Clientcert-Leaf", "X-Amzn-Mtls-Clientcert-Serial-Number",
            "X-Amzn-Mtls-Clientcert-Subject", "X-Amzn-Mtls-Clientcert-Validity"], headers.Keys.Order(StringComparer.Ordinal));
        var openssl = await OpensslAsync(fixture.Alice.CertificateFile);
        Assert.Equal(openssl["serial"], headers["X-Amzn-Mtls-Clientcert-Serial-Number"]);
        Assert.Equal(openssl["subject"], headers["X-Amzn-Mtls-Clientcert-Subject"]);
        Assert.Equal(openssl["issuer"], headers["X-Amzn-Mtls-Clientcert-Issuer"]);
        Assert.Equal("CN=Corp Issuing CA,O=Corp Example", headers["X-Amzn-Mtls-Clientcert-Issuer"]);
        var leaf = fixture.Alice.Certificate;
        Assert.Equal($"NotBefore={leaf.NotBefore.ToUniversalTime():yyyy-MM-dd'T'HH:mm:ss'Z'};NotAfter={leaf.NotAfter.ToUniversalTime():yyyy-MM-dd'T'HH:mm:ss'Z'}",
            headers["X-Amzn-Mtls-Clientcert-Validity"]);
        Assert.Equal(File.ReadAllText(fixture.Alice.CertificateFile).Replace(" ", "%20").Replace("\n", "%0A"), headers["X-Amzn-Mtls-Clientcert-Leaf"]);
    }

    [Fact]
    public async Task Off_mode_asks_for_no_certificate_and_forwards_no_mtls_header()
    {
        var answer = await fixture.Edge.CurlAsync(fixture.OffPort, "/off", [.. EdgeUnderTest.Cert(fixture.Alice, fixture.AliceChain), .. Forgeries]);

        Assert.Equal(200, answer.Status);
        Assert.Empty(MtlsHeaders(answer));
    }

    [Fact]
    public async Task Renamed_headers_carry_the_values_and_neither_name_can_be_forged()
    {
        var renamedForgeries = new[] { "-H", "X-Client-Subject: CN=admin", "-H", "x_client_leaf: forged" };
        var answer = await fixture.Edge.CurlAsync(fixture.RenamedPort, "/renamed",
            [.. EdgeUnderTest.Cert(fixture.Alice, fixture.AliceChain), .. Forgeries, .. renamedForgeries]);

        var headers = MtlsHeaders(answer).ToDictionary(h => h.Name, h => h.Value);
        Assert.Equal(["X-Client-Issuer", "X-Client-Leaf", "X-Client-Serial", "X-Client-Subject", "X-Client-Validity"], headers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((await OpensslAsync(fixture.Alice.CertificateFile))["subject"], headers["X-Client-Subject"]);
    }

    [Fact]
    public async Task X_forwarded_headers_and_a_trace_id_are_added_in_append_mode()
    {
        var answer = await fixture.Edge.CurlAsync(fixture.OffPort, "/forwarded", "-H", "X-Forwarded-For: 203.0.113.9", "-H",
            "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Custom=kept;Self=1-00000000-000000000000000000000000");

        var headers = Headers(answer);
        Assert.Equal("203.0.113.9, 127.0.0.1", Value(headers, "X-Forwarded-For"));
        Assert.Equal("https", Value(headers, "X-Forwarded-Proto"));
        Assert.Equal(fixture.OffPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Value(headers, "X-Forwarded-Port"));
        Assert.Matches(@"^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-5759e988-bd862e3fe1be46a994272793;Custom=kept$", Value(headers, "X-Amzn-Trace-Id"));
        Assert.Equal($"127.0.0.1:{fixture.OffPort}", Value(headers, "Host"));

        var fresh = Headers(await fixture.Edge.CurlAsync(fixture.OffPort, "/trace"));
        Assert.Matches("^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$", Value(fresh, "X-Amzn-Trace-Id"));
    }

    /// <summary>openssl's view of a certificate: serial (hex), subject and issuer in RFC 2253.</summary>
    internal static async Task<Dictionary<string, string>> OpensslAsync(string certificate)
    {
        var result = (await Peer.RunAsync("openssl", "x509", "-in", certificate, "-noout", "-serial", "-subject", "-issuer", "-nameopt", "RFC2253"))
            .EnsureSuccess("openssl x509");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
    }

    internal static List<(string Name, string Value)> Headers(CurlResult answer)
    {
        Assert.True(answer.Status == 200, answer.ToString());
        using var json = JsonDocument.Parse(answer.Body);
        return [.. json.RootElement.EnumerateArray().Select(pair => (pair[0].GetString()!, pair[1].GetString()!))];
    }

    private static List<(string Name, string Value)> MtlsHeaders(CurlResult answer) =>
        [.. Headers(answer).Where(h => h.Name.Replace('_', '-').StartsWith("X-Amzn-Mtls", StringComparison.OrdinalIgnoreCase)
                                       || h.Name.Replace('_', '-').StartsWith("X-Client-", StringComparison.OrdinalIgnoreCase))];

    internal static string Value(List<(string Name, string Value)> headers, string name) =>
        Assert.Single(headers, h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
}
