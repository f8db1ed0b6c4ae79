using System.Buffers;
using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// The three ways balancers spell a certificate (spec §6.1 item 5): URL-encoded PEM, bare base64 DER and the RFC 9440
/// byte sequence. Each reader returns null or an error sentence naming the header; all are single-pass over the input
/// with pooled buffers, since they run on every request.
/// </summary>
internal static class CertificateEncodings
{
    private const string Begin = "-----BEGIN ";
    private const string Dashes = "-----";
    private const string End = "-----END CERTIFICATE-----";

    /// <summary>
    /// URL-encoded PEM (ALB §1.3, Envoy §2.1, nginx §4.3): strict percent-decoding in which every character other than
    /// a %XX escape stands for itself, so '+' stays '+' (never form-decoding, spec §1.3) and both '=' and %3D work.
    /// </summary>
    public static string? ReadUrlEncodedPem(string header, string value, int maxCertificates, PresentedChain into)
    {
        var decoded = ArrayPool<char>.Shared.Rent(value.Length);
        try
        {
            var problem = PercentDecode(value, decoded, out var length) ?? ReadPem(decoded.AsSpan(0, length), maxCertificates, into, header);
            return problem switch
            {
                null => null,
                TooMany => TooManyCertificates(header, maxCertificates),
                _ => $"{header} is not URL-encoded PEM: {problem}",
            };
        }
        finally
        {
            ArrayPool<char>.Shared.Return(decoded);
        }
    }

    /// <summary>
    /// Strict RFC 3986 §2.1 percent-decoding of ASCII text into <paramref name="into"/> (at least as long as the
    /// value): a '%' must start two hex digits, and nothing may decode to a non-ASCII byte.
    /// </summary>
    /// <returns>Null, or a phrase saying what is wrong and where (offsets are into the value as received).</returns>
    public static string? PercentDecode(string value, Span<char> into, out int length)
    {
        length = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%')
            {
                if (i + 2 >= value.Length || !char.IsAsciiHexDigit(value[i + 1]) || !char.IsAsciiHexDigit(value[i + 2]))
                    return $"'{UntrustedText.Show(value.AsSpan(i, Math.Min(3, value.Length - i)))}' at offset {i} is not a percent-escape";
                var b = byte.Parse(value.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
                if (b > 0x7E) return $"'{value.AsSpan(i, 3)}' at offset {i} decodes to a byte that never appears in a certificate's text form";
                into[length++] = (char)b;
                i += 2;
            }
            else if (c > 0x7E) return $"character '{UntrustedText.Show([c])}' at offset {i} is not allowed in a URL-encoded value";
            else into[length++] = c;
        }
        return null;
    }

    public static bool StartsLikePem(ReadOnlySpan<char> text) => text.TrimStart(HeaderValue.Whitespace).StartsWith(Begin, StringComparison.Ordinal);

    /// <summary>
    /// Concatenated CERTIFICATE blocks (RFC 7468 §2) with only whitespace around and between them; a tolerant reader
    /// of line breaks (LF, CRLF, none) but not of other text or labels. Hand-written rather than PemEncoding.TryFind,
    /// which skips leading text and retries after a bad block (quadratic on hostile input).
    /// </summary>
    /// <returns>Null, a phrase, or <see cref="TooMany"/>.</returns>
    public static string? ReadPem(ReadOnlySpan<char> text, int maxCertificates, PresentedChain into, string header)
    {
        var position = 0;
        var count = 0;
        while (true)
        {
            while (position < text.Length && HeaderValue.Whitespace.Contains(text[position])) position++;
            if (position == text.Length) break;
            var rest = text[position..];
            if (!rest.StartsWith(Begin, StringComparison.Ordinal))
                return count == 0
                    ? $"it starts with '{UntrustedText.Show(rest)}' instead of -----BEGIN CERTIFICATE-----"
                    : $"'{UntrustedText.Show(rest)}' follows certificate {count}; only whitespace may separate CERTIFICATE blocks";
            var labelLength = rest[Begin.Length..].IndexOf(Dashes, StringComparison.Ordinal);
            if (labelLength < 0) return $"the -----BEGIN line of block {count + 1} never ends";
            var label = rest.Slice(Begin.Length, labelLength);
            if (!label.SequenceEqual("CERTIFICATE"))
                return $"block {count + 1} is labelled '{UntrustedText.Show(label)}'; only CERTIFICATE blocks are accepted";
            var body = rest[(Begin.Length + labelLength + Dashes.Length)..];
            var bodyLength = body.IndexOf(End, StringComparison.Ordinal);
            if (bodyLength < 0) return $"CERTIFICATE block {count + 1} has no -----END CERTIFICATE----- line";
            if (++count > maxCertificates) return TooMany;
            var problem = ReadBase64Der(body[..bodyLength], allowWhitespace: true, into, header);
            if (problem is not null) return $"certificate {count} {problem}";
            position += Begin.Length + labelLength + Dashes.Length + bodyLength + End.Length;
        }
        return count == 0 ? "it holds no CERTIFICATE block" : null;
    }

    public const string TooMany = "too many";

    public static string TooManyCertificates(string header, int max) => max == 1
        ? $"{header} holds more than one certificate, where the balancer sends only the client's own"
        : $"{header} holds more than {max} certificates, the most accepted in one chain";

    /// <summary>Base64 of a DER certificate (Azure, Cloudflare, HAProxy, Traefik; inside PEM and RFC 9440), decoded
    /// straight into <paramref name="into"/> and added to it when it is one complete DER SEQUENCE.</summary>
    /// <returns>Null, or a phrase that reads after "certificate N" or a header name.</returns>
    public static string? ReadBase64Der(ReadOnlySpan<char> base64, bool allowWhitespace, PresentedChain into, string header)
    {
        foreach (var c in base64)
        {
            var ok = c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '+' or '/' or '='
                || (allowWhitespace && HeaderValue.Whitespace.Contains(c));
            if (!ok) return $"is not base64: it contains '{UntrustedText.Show([c])}'";
        }
        var bytes = into.Reserve(base64.Length / 4 * 3 + 3);
        if (!Convert.TryFromBase64Chars(base64, bytes, out var written))
            return "is not base64: its length or padding is wrong";
        var problem = CheckDer(bytes[..written]);
        if (problem is null) into.Commit(written, header);
        return problem;
    }

    /// <summary>An RFC 8941 §3.3.5 byte sequence, ":base64:", as RFC 9440 §2.1 uses for one certificate.</summary>
    public static string? ReadByteSequence(ReadOnlySpan<char> item, PresentedChain into, string header)
    {
        if (item.Length < 2 || item[0] != ':' || item[^1] != ':')
            return $"is not an RFC 9440 byte sequence: '{UntrustedText.Show(item)}' is not wrapped in colons";
        var base64 = item[1..^1];
        if (base64.Contains(';')) return "is not an RFC 9440 byte sequence: parameters are not expected";
        if (base64.Length % 4 == 0) return ReadBase64Der(base64, allowWhitespace: false, into, header);
        // RFC 8941 §4.2.7: parsers SHOULD NOT fail when '=' padding is missing.
        var padded = ArrayPool<char>.Shared.Rent(base64.Length + 3);
        try
        {
            base64.CopyTo(padded);
            var length = base64.Length;
            while (length % 4 != 0) padded[length++] = '=';
            return ReadBase64Der(padded.AsSpan(0, length), allowWhitespace: false, into, header);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(padded);
        }
    }

    /// <summary>Exactly one DER value: the outer SEQUENCE must span every byte (no trailing bytes). Whether it is an
    /// X.509 certificate is for <see cref="PresentedChain.Load"/> to find out (the runtime's parser).</summary>
    public static string? CheckDer(ReadOnlySpan<byte> der)
    {
        if (der.IsEmpty) return "is empty";
        if (!AsnDecoder.TryReadEncodedValue(der, AsnEncodingRules.DER, out var tag, out _, out _, out var consumed) || tag != Asn1Tag.Sequence)
            return "is not DER: it is not one complete ASN.1 SEQUENCE";
        return consumed != der.Length ? $"is not DER: {der.Length - consumed} bytes follow the end of the certificate" : null;
    }

    public static void DisposeAll(IEnumerable<X509Certificate2?> certificates)
    {
        foreach (var certificate in certificates) certificate?.Dispose();
    }
}
