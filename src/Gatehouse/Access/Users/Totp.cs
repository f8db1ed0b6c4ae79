using OtpNet;

namespace Gatehouse.Access.Users;

/// <summary>
/// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) through Otp.NET: HMAC-SHA1, 30-second steps, 6 digits —
/// the parameters every authenticator app uses by default. One step of clock skew either way is accepted. What is ours
/// is the policy around it: the input check, the step remembered against replay, and how long it is remembered.
/// </summary>
internal static class Totp
{
    public const int Digits = 6;
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(30);
    private static readonly VerificationWindow OneStepOfSkew = new(previous: 1, future: 1);

    public static byte[] NewSecret() => KeyGeneration.GenerateRandomKey(20); // 160 bits, RFC 4226 §4 R6

    public static string Code(byte[] secret, DateTimeOffset time) => Generator(secret).ComputeTotp(time.UtcDateTime);

    /// <summary>
    /// True when <paramref name="code"/> is the code of the current step or a neighbouring one; <paramref name="step"/> is
    /// the step it matched. A match alone is not enough to accept a login: RFC 6238 §5.2 says a code is accepted once, so
    /// the caller must also remember the step (<see cref="Storage.IUserStore.TryUseTotpStepAsync"/>).
    /// </summary>
    public static bool Verify(byte[] secret, string? code, DateTimeOffset time, out long step)
    {
        step = 0;
        code = code?.Trim();
        if (code is not { Length: Digits } || !code.All(char.IsAsciiDigit)) return false;
        return Generator(secret).VerifyTotp(time.UtcDateTime, code, out step, OneStepOfSkew); // compares in constant time
    }

    /// <summary>
    /// The oldest step worth remembering as used at <paramref name="time"/>: a code of an older step is refused anyway
    /// (one step of skew), and ten minutes more cover proxies of one cluster whose clocks disagree.
    /// </summary>
    public static long OldestRememberedStep(DateTimeOffset time) => time.ToUnixTimeSeconds() / (long)Step.TotalSeconds - 1 - ClockDisagreementSteps;

    private const long ClockDisagreementSteps = 20;

    /// <summary>The otpauth:// URI authenticator apps read from a QR code.</summary>
    public static string Uri(byte[] secret, string issuer, string account) =>
        new OtpUri(OtpType.Totp, secret, account, issuer, OtpHashMode.Sha1, Digits, (int)Step.TotalSeconds).ToString();

    /// <summary>RFC 4648 base32 without padding, as otpauth URIs carry secrets.</summary>
    public static string Base32(byte[] data) => Base32Encoding.ToString(data).TrimEnd('=');

    private static OtpNet.Totp Generator(byte[] secret) => new(secret, (int)Step.TotalSeconds, OtpHashMode.Sha1, Digits);
}
