using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>A header holding one leaf as base64 of its DER (Azure §4.5, Cloudflare §4.1, HAProxy §4.4).</summary>
internal static class Base64DerLeaf
{
    public static DecodeResult Decode(HeaderValue header, BalancerClaims claims)
    {
        if (header.Error is not null) return DecodeResult.Refused(header.Error, claims);
        if (header.IsAbsent) return DecodeResult.Absent(claims);
        var error = Read(header, out var leaf);
        return error is null ? DecodeResult.Decoded(leaf!, [], claims) : DecodeResult.Refused(error, claims);
    }

    /// <summary>Whitespace around and inside the base64 is tolerated (some proxies wrap long values).</summary>
    public static string? Read(HeaderValue header, out X509Certificate2? leaf)
    {
        var problem = CertificateEncodings.ReadBase64Der(header.Text.AsSpan().Trim(HeaderValue.Whitespace), allowWhitespace: true, out leaf);
        return problem is null ? null : $"{header.Name} {problem}";
    }
}
