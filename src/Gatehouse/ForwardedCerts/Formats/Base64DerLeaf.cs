namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>A header holding one leaf as base64 of its DER (Azure §4.5, Cloudflare §4.1, HAProxy §4.4).</summary>
internal static class Base64DerLeaf
{
    /// <summary>Whitespace around and inside the base64 is tolerated (some proxies wrap long values).</summary>
    public static PresentedDecode Decode(HeaderValue header, BalancerClaims claims)
    {
        if (header.Error is not null) return PresentedDecode.Refused(header.Error, claims);
        if (header.IsAbsent) return PresentedDecode.Absent(claims);
        var leaf = new PresentedChain(header.Text!.Length);
        var problem = CertificateEncodings.ReadBase64Der(header.Text.AsSpan().Trim(HeaderValue.Whitespace), allowWhitespace: true, leaf, header.Name);
        return problem is null ? PresentedDecode.Decoded(leaf, claims) : PresentedDecode.Refused($"{header.Name} {problem}", claims, leaf);
    }
}
