using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// Certificate headers that did not come from a trusted front — another address, or the right address without the
/// front's secret — are removed before anything reads them, and audited. Sent straight to Gatehouse with curl.
/// </summary>
[Collection(BalancerCollection.Name)]
public sealed class ForgeryTests(BalancerCluster cluster)
{
    /// <summary>Every format Gatehouse knows; a new format without forged values below fails its own case.</summary>
    public static TheoryData<string> Formats => new(ForwardedCertificateFormats.ById.Keys);

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Headers_of_every_format_from_an_address_outside_the_fronts_are_stripped_and_audited(string formatId)
    {
        // The fronts' network is 127.0.0.1/32; 127.0.2.N is as close as an attacker inside the VPC gets. One address per
        // format: forgeries are audited once per source and window, and each format's event is looked for below.
        var source = $"127.0.2.{ForwardedCertificateFormats.ById.Keys.ToList().IndexOf(formatId) + 1}";
        var headers = ForgedHeaders(formatId, cluster.Alice.Certificate);
        var curl = headers.SelectMany(h => new[] { "-H", h.Value.Length == 0 ? $"{h.Name};" : $"{h.Name}: {h.Value}" }).ToList();

        // X-Forwarded-For from an untrusted peer is ignored: the audit names the real sender.
        var whoami = await cluster.WhoAmIDirectAsync(["--interface", source, "-H", "X-Forwarded-For: 198.51.100.7", .. curl]);

        Assert.True(whoami.Status == 401, whoami.ToString());
        Assert.Equal("NoClientCertificate", whoami.Reason); // stripped, so there was nothing to judge
        var events = await cluster.Proxy.AuditAsync("--type", "forged_client_cert_header");
        var names = headers.Select(h => h.Name.ToLowerInvariant()).Order().ToList();
        Assert.True(events.Any(e => Text(e, "source_ip") == source && Text(e, "reason") is { } reason
                && reason.Contains("not a trusted front", StringComparison.Ordinal) && reason.EndsWith(string.Join(", ", names), StringComparison.Ordinal)),
            $"no forged-header event from {source} for {string.Join(", ", names)}:\n{string.Join("\n", events)}");
    }

    [Fact]
    public async Task A_flood_of_different_header_subsets_from_one_address_writes_one_audit_event_per_window()
    {
        // Issue 11: keyed by the header set, 40 requests with 40 different subsets were 40 store writes in 0.7 s.
        // One curl run, 40 transfers, each with its own subset of every format's header names.
        const string source = "127.0.3.1";
        var names = ForwardedCertificateFormats.AllDefaultHeaderNames.Order().ToList();
        var args = new List<string>();
        for (var i = 1; i <= 40; i++)
        {
            if (i > 1) args.Add("--next");
            args.AddRange(["-sS", "-o", "/dev/null", "--max-time", "20", "--interface", source, "--cacert", cluster.Proxy.File("host-ca.pem")]);
            foreach (var name in names.Where((_, n) => ((i >> (n % 6)) & 1) == 1)) args.AddRange(["-H", $"{name}: forged-{i}"]);
            args.Add($"https://127.0.0.1:{cluster.Proxy.Port}/v1/whoami");
        }
        var started = DateTime.UtcNow;

        (await Peer.RunAsync("curl", args, timeout: TimeSpan.FromSeconds(120))).EnsureSuccess("curl (40 transfers)");

        // Not a timing assertion: one event per window the flood lasted (one, on any machine that is not crawling).
        var windows = 1 + (int)((DateTime.UtcNow - started) / TimeSpan.FromSeconds(10));
        var events = (await cluster.Proxy.AuditAsync("--type", "forged_client_cert_header")).Where(e => Text(e, "source_ip") == source).ToList();
        Assert.InRange(events.Count, 1, windows);
        await cluster.Proxy.WaitForOutputAsync($"from {source}: it is not a trusted front");
    }

    [Fact]
    public async Task Headers_from_the_fronts_address_without_the_right_secret_are_stripped()
    {
        var headers = ForgedHeaders("aws-alb-passthrough", cluster.Alice.Certificate);
        var cert = $"{headers[0].Name}: {headers[0].Value}";

        // No secret at all, and a wrong one: not a front.
        var none = await cluster.WhoAmIDirectAsync("-H", cert);
        Assert.True(none.Status == 401 && none.Reason == "NoClientCertificate", none.ToString());
        var wrong = await cluster.WhoAmIDirectAsync("-H", cert, "-H", $"{BalancerCluster.SecretHeader}: {new string('0', 32)}");
        Assert.True(wrong.Status == 401 && wrong.Reason == "NoClientCertificate", wrong.ToString());
        // The nginx front's secret makes it the nginx front — which does not send the ALB header.
        var otherFront = await cluster.WhoAmIDirectAsync("-H", cert, "-H", $"{BalancerCluster.SecretHeader}: {cluster.NginxSecret}");
        Assert.True(otherFront.Status == 401 && otherFront.Reason == "NoClientCertificate", otherFront.ToString());
        // The right secret: the same headers are honoured (so the refusals above were about the secret).
        var right = await cluster.WhoAmIDirectAsync("-H", cert, "-H", $"{BalancerCluster.SecretHeader}: {cluster.AlbSecret}");
        Assert.True(right.Status == 200 && right.User == "alice" && right.Get("front") == BalancerCluster.AlbFront, right.ToString());

        var events = await cluster.Proxy.AuditAsync("--type", "forged_client_cert_header");
        Assert.Contains(events, e => Text(e, "source_ip") == "127.0.0.1" && Text(e, "reason") is { } r
            && r.Contains("not a trusted front", StringComparison.Ordinal) && r.Contains("x-amzn-mtls-clientcert", StringComparison.Ordinal));
        Assert.Contains(events, e => Text(e, "source_ip") == "127.0.0.1" && Text(e, "reason") is { } r
            && r.Contains($"front '{BalancerCluster.NginxFront}' does not send", StringComparison.Ordinal) && r.Contains("x-amzn-mtls-clientcert", StringComparison.Ordinal));
    }

    internal static string? Text(JsonElement e, string property) =>
        e.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// A valid-looking value of every header of the format, in its own encoding, built from a real certificate (so a
    /// guard that let them through would authenticate the request): what a forger who holds someone's certificate sends.
    /// </summary>
    internal static IReadOnlyList<(string Name, string Value)> ForgedHeaders(string formatId, string certificatePem)
    {
        var format = ForwardedCertificateFormats.ById[formatId];
        using var leaf = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePem));
        var pem = leaf.ExportCertificatePem() + "\n";
        // ALB's encoding: URL-encoded with + = / left alone.
        var escapedPem = Uri.EscapeDataString(pem).Replace("%2B", "+", StringComparison.Ordinal).Replace("%3D", "=", StringComparison.Ordinal)
            .Replace("%2F", "/", StringComparison.Ordinal);
        var der = Convert.ToBase64String(leaf.RawData);
        var sha256 = SHA256.HashData(leaf.RawData);
        var serial = leaf.SerialNumber;
        var validity = $"NotBefore={leaf.NotBefore.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ};NotAfter={leaf.NotAfter.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}";
        string Value(HeaderRole role) => (formatId, role) switch
        {
            ("aws-alb-passthrough", HeaderRole.Cert) => escapedPem,
            ("aws-alb-verify", HeaderRole.Leaf) => escapedPem,
            ("aws-alb-verify", HeaderRole.Serial) => serial,
            ("aws-alb-verify", HeaderRole.Issuer) => leaf.IssuerName.Format(false).Replace(", ", ",", StringComparison.Ordinal),
            ("aws-alb-verify", HeaderRole.Subject) => leaf.SubjectName.Format(false).Replace(", ", ",", StringComparison.Ordinal),
            ("aws-alb-verify", HeaderRole.Validity) => validity,
            ("envoy-xfcc", HeaderRole.Cert) => $"Hash={Convert.ToHexStringLower(sha256)};Cert=\"{escapedPem}\"",
            ("gcp", HeaderRole.Present) => "true",
            ("gcp", HeaderRole.Verify) => "true",
            ("gcp", HeaderRole.Error) => "",
            ("gcp", HeaderRole.Hash) => Convert.ToBase64String(sha256),
            ("gcp", HeaderRole.Leaf) => $":{der}:",
            ("gcp", HeaderRole.Chain) => "",
            ("rfc9440", HeaderRole.Cert) => $":{der}:",
            ("rfc9440", HeaderRole.Chain) => "",
            ("traefik", HeaderRole.Cert) => der,
            ("nginx", HeaderRole.Cert) => escapedPem,
            ("nginx", HeaderRole.Verify) => "SUCCESS",
            ("haproxy", HeaderRole.Cert) => der,
            ("haproxy", HeaderRole.Verify) => "0",
            ("cloudflare", HeaderRole.Cert) => der,
            ("cloudflare", HeaderRole.Hash) => Convert.ToHexStringLower(sha256),
            ("azure-arr", HeaderRole.Cert) => der,
            _ => throw new Xunit.Sdk.XunitException($"no forged value for {formatId} {role}: add one here"),
        };
        return [.. format.DefaultHeaders.Select(h => (h.Value, Value(h.Key)))];
    }
}
