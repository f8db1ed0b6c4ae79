using System.Security.Cryptography;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// The three NIST curves RFC 5656 defines for SSH, with the names OpenSSH uses on the wire and
/// the hash each one signs with (RFC 5656 §6.2.1: SHA-256 up to 256-bit curves, SHA-384 up to
/// 384, SHA-512 above).
/// </summary>
internal sealed record SshEcdsaCurve(string Identifier, string Oid, int FieldBytes, HashAlgorithmName Hash)
{
    public static readonly SshEcdsaCurve NistP256 = new("nistp256", "1.2.840.10045.3.1.7", 32, HashAlgorithmName.SHA256);
    public static readonly SshEcdsaCurve NistP384 = new("nistp384", "1.3.132.0.34", 48, HashAlgorithmName.SHA384);
    public static readonly SshEcdsaCurve NistP521 = new("nistp521", "1.3.132.0.35", 66, HashAlgorithmName.SHA512);

    private static readonly SshEcdsaCurve[] All = [NistP256, NistP384, NistP521];

    /// <summary>RFC 5656 §3.1: "ecdsa-sha2-" + curve identifier, used for both key and signature format.</summary>
    public string KeyType => "ecdsa-sha2-" + Identifier;

    public static SshEcdsaCurve Of(ECDsa key)
    {
        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        // Match by OID value; the friendly name differs between platforms ("nistP256" vs "ECDSA_P256").
        var match = curve.IsNamed ? All.FirstOrDefault(c => c.Oid == curve.Oid.Value) : null;
        return match ?? throw new ArgumentException(
            $"ECDSA key on curve '{curve.Oid?.FriendlyName ?? curve.Oid?.Value ?? "explicit"}' is not supported by OpenSSH; use P-256, P-384 or P-521.");
    }

    public static SshEcdsaCurve? FromKeyType(string keyType) => All.FirstOrDefault(c => c.KeyType == keyType);
}
