using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Benchmarks;

/// <summary>
/// Header values written the way each balancer writes them. Copied from the test helper
/// tests/Gatehouse.Tests/ForwardedCerts/Formats/Encode.cs (kept independent of the decoders on purpose).
/// </summary>
internal static class BalancerEncode
{
    /// <summary>PEM as OpenSSL writes it: 64-column base64, LF line ends, a trailing newline.</summary>
    public static string Pem(params X509Certificate2[] certificates)
    {
        var text = new StringBuilder();
        foreach (var certificate in certificates)
        {
            text.Append("-----BEGIN CERTIFICATE-----\n");
            var base64 = Convert.ToBase64String(certificate.RawData);
            for (var i = 0; i < base64.Length; i += 64) text.Append(base64.AsSpan(i, Math.Min(64, base64.Length - i))).Append('\n');
            text.Append("-----END CERTIFICATE-----\n");
        }
        return text.ToString();
    }

    /// <summary>RFC 3986 percent-encoding leaving unreserved characters and <paramref name="safe"/> literal.</summary>
    public static string Url(string text, string safe)
    {
        var result = new StringBuilder();
        foreach (var c in text)
        {
            if (char.IsAsciiLetterOrDigit(c) || "-_.~".Contains(c) || safe.Contains(c)) result.Append(c);
            else result.Append('%').Append(((int)c).ToString("X2"));
        }
        return result.ToString();
    }

    /// <summary>ALB as documented (spec §1.3): URL-encoded PEM with '+', '=' and '/' safe.</summary>
    public static string Alb(params X509Certificate2[] chain) => Url(Pem(chain), "+=/");

    /// <summary>nginx $ssl_client_escaped_cert: everything but unreserved characters escaped.</summary>
    public static string Nginx(X509Certificate2 leaf) => Url(Pem(leaf), "");

    public static string Base64(X509Certificate2 certificate) => Convert.ToBase64String(certificate.RawData);

    /// <summary>RFC 9440 / RFC 8941 byte sequence.</summary>
    public static string Sf(X509Certificate2 certificate) => $":{Base64(certificate)}:";

    public static string HexSha256(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    public static string Base64Sha256(X509Certificate2 certificate) => Convert.ToBase64String(SHA256.HashData(certificate.RawData));

    public static string Validity(X509Certificate2 certificate) =>
        $"NotBefore={certificate.NotBefore.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ};NotAfter={certificate.NotAfter.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}";

    /// <summary>RFC 2253 as ALB writes it: most specific RDN first, ',' without spaces. Enough for the plain names
    /// used here (no escaping needed).</summary>
    public static string Rfc2253(X500DistinguishedName name) =>
        string.Join(",", name.EnumerateRelativeDistinguishedNames(reversed: true).Select(rdn =>
            $"{ShortName(rdn.GetSingleElementType().Value!)}={rdn.GetSingleElementValue()}"));

    private static string ShortName(string oid) => oid switch
    {
        "2.5.4.3" => "CN",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        _ => oid,
    };

    /// <summary>One header set per format, as that balancer sends it. <paramref name="chain"/> is leaf first; formats
    /// that carry only the leaf get <paramref name="leaf"/>.</summary>
    public static (string Name, string Value)[] HeadersFor(string formatId, X509Certificate2 leaf, X509Certificate2[] chain) => formatId switch
    {
        "aws-alb-passthrough" => [("X-Amzn-Mtls-Clientcert", Alb(chain))],
        "aws-alb-verify" =>
        [
            ("X-Amzn-Mtls-Clientcert-Leaf", Alb(leaf)), ("X-Amzn-Mtls-Clientcert-Serial-Number", leaf.SerialNumber),
            ("X-Amzn-Mtls-Clientcert-Issuer", Rfc2253(leaf.IssuerName)), ("X-Amzn-Mtls-Clientcert-Subject", Rfc2253(leaf.SubjectName)),
            ("X-Amzn-Mtls-Clientcert-Validity", Validity(leaf)),
        ],
        // Envoy: Chain includes the leaf (spec §2.1).
        "envoy-xfcc" =>
        [
            ("x-forwarded-client-cert", $"By=spiffe://front;Hash={HexSha256(chain[0])};Cert=\"{Url(Pem(chain[0]), "")}\";"
                + $"Chain=\"{Url(Pem(chain), "")}\";Subject=\"{Rfc2253(chain[0].SubjectName)}\";DNS=client.example.test"),
        ],
        // GCP and RFC 9440: the chain header holds what is above the leaf.
        "gcp" =>
        [
            ("X-Client-Cert-Present", "true"), ("X-Client-Cert-Chain-Verified", "true"), ("X-Client-Cert-Hash", Base64Sha256(chain[0])),
            ("X-Client-Cert-Leaf", Sf(chain[0])), ("X-Client-Cert-Chain", string.Join(",", chain.Skip(1).Select(Sf))),
        ],
        "rfc9440" => [("Client-Cert", Sf(chain[0])), ("Client-Cert-Chain", string.Join(", ", chain.Skip(1).Select(Sf)))],
        "traefik" => [("X-Forwarded-Tls-Client-Cert", string.Join(",", chain.Select(Base64)))],
        "nginx" => [("X-SSL-Client-Cert", Nginx(leaf)), ("X-SSL-Client-Verify", "SUCCESS")],
        "haproxy" => [("X-SSL-Client-DER", Base64(leaf)), ("X-SSL-Client-Verify", "0")],
        "cloudflare" => [("Cf-Client-Cert-Der-Base64", Base64(leaf)), ("Cf-Client-Cert-Sha256", HexSha256(leaf))],
        "azure-arr" => [("X-ARR-ClientCert", Base64(leaf))],
        _ => throw new ArgumentException($"no headers written for format {formatId}; add it to BalancerEncode.HeadersFor", nameof(formatId)),
    };

    /// <summary>Formats whose headers carry the client's chain (the others carry the leaf alone).</summary>
    public static bool CarriesChain(string formatId) => formatId is "aws-alb-passthrough" or "envoy-xfcc" or "gcp" or "rfc9440" or "traefik";
}
