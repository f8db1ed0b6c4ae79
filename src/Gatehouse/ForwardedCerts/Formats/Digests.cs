using System.Security.Cryptography;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>How a balancer spells the SHA-256 of the leaf's DER beside the certificate.</summary>
[Flags]
internal enum DigestSpelling { Hex = 1, Base64 = 2 }

internal static class Digests
{
    /// <summary>
    /// Checks a digest header against the decoded leaf's DER: a digest that does not match means the certificate and the
    /// digest did not come from the same place (or one was altered on the way), so the caller refuses.
    /// </summary>
    /// <returns>Null when it matches, else an error sentence naming the header.</returns>
    public static string? Check(HeaderValue header, ReadOnlySpan<byte> leaf, DigestSpelling accepted)
    {
        var text = header.Text.AsSpan().Trim(HeaderValue.Whitespace);
        Span<byte> claimed = stackalloc byte[32];
        var hex = accepted.HasFlag(DigestSpelling.Hex) && TryHex(text, claimed);
        var base64 = !hex && accepted.HasFlag(DigestSpelling.Base64) && IsBase64Digest(text) && Convert.TryFromBase64Chars(text, claimed, out var written) && written == 32;
        if (!hex && !base64)
        {
            var expected = accepted switch
            {
                DigestSpelling.Hex => "64 hexadecimal digits",
                DigestSpelling.Base64 => "44 characters of base64",
                _ => "64 hexadecimal digits or 44 characters of base64",
            };
            return $"{header.Name} is not a SHA-256 digest: '{UntrustedText.Show(text)}' is not {expected}";
        }
        Span<byte> actual = stackalloc byte[32];
        SHA256.HashData(leaf, actual);
        if (claimed.SequenceEqual(actual)) return null;
        var shown = hex ? Convert.ToHexStringLower(actual) : Convert.ToBase64String(actual);
        return $"{header.Name} does not match the certificate: it says '{UntrustedText.Show(text, 64)}' but the certificate's SHA-256 is '{shown}'";
    }

    private static bool TryHex(ReadOnlySpan<char> text, Span<byte> into)
    {
        if (text.Length != 64) return false;
        foreach (var c in text)
            if (!char.IsAsciiHexDigit(c)) return false;
        return Convert.FromHexString(text, into, out _, out var written) == System.Buffers.OperationStatus.Done && written == 32;
    }

    private static bool IsBase64Digest(ReadOnlySpan<char> text)
    {
        if (text.Length != 44) return false;
        foreach (var c in text)
            if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '+' or '/' or '=')) return false;
        return true;
    }
}
