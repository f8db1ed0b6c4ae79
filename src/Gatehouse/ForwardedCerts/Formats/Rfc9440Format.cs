namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// RFC 9440 (spec §4.7): Client-Cert is one structured-field byte sequence (":base64-DER:") holding the leaf;
/// Client-Cert-Chain is a structured-field list of them holding the intermediates, leaf excluded. GCP and Cloudflare
/// transform rules use the same encoding. The header itself says nothing about verification (Cloudflare's rules
/// and GCP's other headers do), so the claims are empty.
/// </summary>
internal sealed class Rfc9440Format() : ForwardedCertificateFormat("rfc9440", new Dictionary<HeaderRole, string>
{
    [HeaderRole.Cert] = "Client-Cert",
    [HeaderRole.Chain] = "Client-Cert-Chain",
})
{
    protected override PresentedDecode Read(FormatHeaders headers) =>
        Decode(headers.Read(HeaderRole.Cert),
            headers.Read(HeaderRole.Chain, commaMeansJoined: false), headers.Limits, BalancerClaims.None);

    /// <summary>Leaf and chain headers to a result; shared with GCP, whose leaf and chain use this encoding (spec §3).</summary>
    public static PresentedDecode Decode(HeaderValue leafHeader, HeaderValue chainHeader, DecodeLimits limits, BalancerClaims claims)
    {
        if (leafHeader.Error is not null) return PresentedDecode.Refused(leafHeader.Error, claims);
        if (chainHeader.Error is not null) return PresentedDecode.Refused(chainHeader.Error, claims);
        if (leafHeader.IsAbsent)
            return chainHeader.IsPresent
                ? PresentedDecode.Refused($"{chainHeader.Name} was sent without {leafHeader.Name}; a chain without its leaf identifies no one", claims)
                : PresentedDecode.Absent(claims);

        var chain = new PresentedChain(leafHeader.Text!.Length + (chainHeader.Text?.Length ?? 0));
        var problem = CertificateEncodings.ReadByteSequence(leafHeader.Text.AsSpan().Trim(HeaderValue.Whitespace), chain, leafHeader.Name);
        if (problem is not null) return PresentedDecode.Refused($"{leafHeader.Name} {problem}", claims, chain);
        var error = chainHeader.IsPresent ? ReadList(chainHeader, limits.MaxChainDepth - 1, chain) : null;
        return error is null ? PresentedDecode.Decoded(chain, claims) : PresentedDecode.Refused(error, claims, chain);
    }

    /// <summary>An RFC 8941 §3.1 list of byte sequences; optional whitespace around the commas is allowed (§4.2.1).</summary>
    private static string? ReadList(HeaderValue header, int maxItems, PresentedChain into)
    {
        var index = 0;
        foreach (var range in header.Text.AsSpan().Split(','))
        {
            var item = header.Text.AsSpan()[range].Trim(HeaderValue.Whitespace);
            index++;
            if (item.IsEmpty) return $"{header.Name} has an empty member at position {index}";
            if (index > maxItems)
                return $"{header.Name} holds more than {maxItems} intermediate certificates; with the leaf that exceeds the most accepted in one chain";
            var problem = CertificateEncodings.ReadByteSequence(item, into, header.Name);
            if (problem is not null) return $"{header.Name} member {index} {problem}";
        }
        return null;
    }
}
