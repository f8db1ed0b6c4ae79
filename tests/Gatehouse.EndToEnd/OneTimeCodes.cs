using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse.EndToEnd;

/// <summary>
/// An authenticator app, as the end-to-end tests need one: the secret read from the otpauth:// URI that `admin users add
/// --totp` prints, and RFC 6238 codes computed from it. Written out here rather than taken from the product's
/// <c>Totp</c>, so a shared mistake cannot make both sides agree.
/// </summary>
internal static partial class OneTimeCodes
{
    /// <summary>The secret of the otpauth:// URI in <paramref name="enrolment"/> (the output of `users add --totp`).</summary>
    public static byte[] SecretFromEnrolment(string enrolment)
    {
        var uri = OtpauthUri().Match(enrolment);
        Xunit.Assert.True(uri.Success, enrolment);
        Xunit.Assert.Equal("SHA1", uri.Groups["algorithm"].Value);
        return Base32Decode(uri.Groups["secret"].Value);
    }

    /// <summary>RFC 6238 TOTP with the URI's parameters (HMAC-SHA1, 30 s, 6 digits).</summary>
    public static string Code(byte[] secret, DateTimeOffset now)
    {
        var counter = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(counter, now.ToUnixTimeSeconds() / 30);
        var mac = System.Security.Cryptography.HMACSHA1.HashData(secret, counter);
        var offset = mac[^1] & 0x0F; // RFC 4226 §5.3 dynamic truncation
        var value = ((mac[offset] & 0x7F) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
        return (value % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
    }

    private static byte[] Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('='))
        {
            buffer = ((buffer << 5) | alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal)) & 0xFFFF; // at most 12 bits are pending
            bits += 5;
            if (bits >= 8)
            {
                output.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. output];
    }

    [GeneratedRegex(@"otpauth://totp/\S*\?secret=(?<secret>[A-Z2-7]+)&\S*algorithm=(?<algorithm>[A-Z0-9]+)&digits=6&period=30")]
    private static partial Regex OtpauthUri();
}
