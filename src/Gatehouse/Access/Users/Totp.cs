using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Access.Users;

/// <summary>
/// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30-second steps, 6 digits — the
/// parameters every authenticator app uses by default. One step of clock skew either way is accepted.
/// </summary>
internal static class Totp
{
    public const int Digits = 6;
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(20); // 160 bits, RFC 4226 §4 R6

    public static string Code(ReadOnlySpan<byte> secret, DateTimeOffset time) => Code(secret, StepOf(time));

    /// <summary>
    /// True when <paramref name="code"/> is the code of the current step or a neighbouring one; <paramref name="step"/> is
    /// the step it matched. A match alone is not enough to accept a login: RFC 6238 §5.2 says a code is accepted once, so
    /// the caller must also remember the step (<see cref="Storage.IUserStore.TryUseTotpStepAsync"/>).
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> secret, string? code, DateTimeOffset time, out long step)
    {
        step = 0;
        if (code is null) return false;
        code = code.Trim();
        if (code.Length != Digits || !code.All(char.IsAsciiDigit)) return false;
        var current = StepOf(time);
        var matched = false;
        for (long s = current - 1; s <= current + 1; s++) // compare all three: no early exit to time
        {
            var equal = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Code(secret, s)), Encoding.ASCII.GetBytes(code));
            step = equal ? s : step;
            matched |= equal;
        }
        return matched;
    }

    /// <summary>
    /// The oldest step worth remembering as used at <paramref name="time"/>: a code of an older step is refused anyway
    /// (one step of skew), and ten minutes more cover proxies of one cluster whose clocks disagree.
    /// </summary>
    public static long OldestRememberedStep(DateTimeOffset time) => StepOf(time) - 1 - ClockDisagreementSteps;

    private const long ClockDisagreementSteps = 20;

    /// <summary>The otpauth:// URI authenticator apps read from a QR code.</summary>
    public static string Uri(ReadOnlySpan<byte> secret, string issuer, string account) =>
        $"otpauth://totp/{System.Uri.EscapeDataString(issuer)}:{System.Uri.EscapeDataString(account)}?secret={Base32(secret)}" +
        $"&issuer={System.Uri.EscapeDataString(issuer)}&algorithm=SHA1&digits={Digits}&period={(int)Step.TotalSeconds}";

    private static long StepOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / (long)Step.TotalSeconds;

    private static string Code(ReadOnlySpan<byte> secret, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> mac = stackalloc byte[20];
        HMACSHA1.HashData(secret, counter, mac);
        var offset = mac[^1] & 0x0F; // dynamic truncation, RFC 4226 §5.3
        var binary = (BinaryPrimitives.ReadInt32BigEndian(mac.Slice(offset, 4)) & 0x7FFFFFFF) % 1_000_000;
        return binary.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 4648 base32 without padding, as otpauth URIs carry secrets.</summary>
    public static string Base32(ReadOnlySpan<byte> data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                output.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) output.Append(alphabet[(buffer << (5 - bits)) & 31]);
        return output.ToString();
    }
}
