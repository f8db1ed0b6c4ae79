using System.Buffers;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// Traefik's PassTLSClientCert (spec §4.2): X-Forwarded-Tls-Client-Cert holds every certificate the client sent,
/// leaf first, each as bare base64 DER (PEM armour and newlines stripped) joined by ','. Traefik v3 does not
/// URL-encode it; v2 query-escaped it and some consumers expect URL-encoded PEM, so the spec asks decoders to accept
/// those too: the value is percent-decoded strictly (never form-decoded, so '+' survives) before it is read.
/// </summary>
internal sealed class TraefikFormat() : ForwardedCertificateFormat("traefik", new Dictionary<HeaderRole, string> { [HeaderRole.Cert] = "X-Forwarded-Tls-Client-Cert" })
{
    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var header = headers.Read(HeaderRole.Cert, commaMeansJoined: false);
        if (header.Error is not null) return PresentedDecode.Refused(header.Error);
        if (header.IsAbsent) return PresentedDecode.Absent();

        var certificates = new PresentedChain(header.Text!.Length);
        var error = Read(header.Name, header.Text!, headers.Limits.MaxChainDepth, certificates);
        return error is null ? PresentedDecode.Decoded(certificates, BalancerClaims.None) : PresentedDecode.Refused(error, discard: certificates);
    }

    private static string? Read(string name, string value, int maxCertificates, PresentedChain into)
    {
        if (CertificateEncodings.StartsLikePem(value) || value.AsSpan().TrimStart(HeaderValue.Whitespace).StartsWith("-----BEGIN%20", StringComparison.Ordinal))
            return CertificateEncodings.ReadUrlEncodedPem(name, value, maxCertificates, into);
        if (!value.Contains('%')) return ReadList(name, value, maxCertificates, into);
        var decoded = ArrayPool<char>.Shared.Rent(value.Length);
        try
        {
            var problem = CertificateEncodings.PercentDecode(value, decoded, out var length);
            return problem is not null
                ? $"{name} is neither base64 nor URL-encoded: {problem}"
                : ReadList(name, decoded.AsSpan(0, length), maxCertificates, into);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(decoded);
        }
    }

    /// <summary>Comma-joined base64 DER, leaf first; spaces around the commas are tolerated.</summary>
    private static string? ReadList(string name, ReadOnlySpan<char> text, int maxCertificates, PresentedChain into)
    {
        var index = 0;
        foreach (var range in text.Split(','))
        {
            var item = text[range].Trim(HeaderValue.Whitespace);
            index++;
            if (item.IsEmpty) return $"{name} has an empty entry at position {index} of its comma-separated certificates";
            if (index > maxCertificates) return CertificateEncodings.TooManyCertificates(name, maxCertificates);
            var problem = CertificateEncodings.ReadBase64Der(item, allowWhitespace: false, into, name);
            if (problem is not null) return $"{name} certificate {index} {problem}";
        }
        return null;
    }
}
