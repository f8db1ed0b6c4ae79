using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.ForwardedCerts.Formats;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>Header values written the way the spec says each balancer writes them (independent of the decoders).</summary>
internal static class Encode
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
    public static string Url(string text, string safe, bool lowerHex = false)
    {
        var result = new StringBuilder();
        foreach (var c in text)
        {
            if (char.IsAsciiLetterOrDigit(c) || "-_.~".Contains(c) || safe.Contains(c)) result.Append(c);
            else result.Append('%').Append(((int)c).ToString(lowerHex ? "x2" : "X2"));
        }
        return result.ToString();
    }

    /// <summary>ALB as documented in prose (spec §1.3): '+', '=' and '/' safe.</summary>
    public static string Alb(params X509Certificate2[] chain) => Url(Pem(chain), "+=/");

    /// <summary>ALB as in AWS's own example: padding written %3D.</summary>
    public static string AlbExample(params X509Certificate2[] chain) => Url(Pem(chain), "+/");

    /// <summary>nginx $ssl_client_escaped_cert: everything but unreserved characters escaped.</summary>
    public static string Nginx(X509Certificate2 leaf) => Url(Pem(leaf), "");

    public static string Base64(X509Certificate2 certificate) => Convert.ToBase64String(certificate.RawData);

    public static string Sf(X509Certificate2 certificate) => $":{Base64(certificate)}:";

    public static string HexSha256(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    public static string Base64Sha256(X509Certificate2 certificate) => Convert.ToBase64String(SHA256.HashData(certificate.RawData));

    public static string Serial(X509Certificate2 certificate) => certificate.SerialNumber;

    public static string Validity(X509Certificate2 certificate) =>
        $"NotBefore={certificate.NotBefore.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ};NotAfter={certificate.NotAfter.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}";

    public static readonly IReadOnlyDictionary<HeaderRole, string> Defaults = new Dictionary<HeaderRole, string>();

    public static DecodeResult Decode(string formatId, params (string Name, string Value)[] lines) =>
        ForwardedCertificateFormats.ById[formatId].Decode(ReceivedHeaders.Of(lines), Defaults, new DecodeLimits());

    public static void AssertDecoded(DecodeResult result, X509Certificate2 leaf, params X509Certificate2[] intermediates)
    {
        Assert.True(result.Status == DecodeStatus.Decoded, result.Error);
        Assert.Equal(leaf.RawData, result.Leaf!.RawData);
        Assert.Equal(intermediates.Select(c => Convert.ToHexString(c.RawData)), result.Intermediates.Select(c => Convert.ToHexString(c.RawData)));
    }

    public static void AssertRefused(DecodeResult result, params string[] phrases)
    {
        Assert.Equal(DecodeStatus.Refused, result.Status);
        Assert.Null(result.Leaf);
        foreach (var phrase in phrases) Assert.Contains(phrase, result.Error);
    }
}
