using System.Security.Cryptography;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// Plain (non-certificate) OpenSSH public key blobs, key lines, fingerprints and private key
/// files for the key types Gatehouse issues with: ECDSA P-256/384/521 (RFC 5656 §3.1) and RSA
/// (RFC 4253 §6.6).
/// </summary>
internal static class OpenSshKeyFormat
{
    public const string RsaKeyType = "ssh-rsa";

    /// <summary>
    /// Below 2048 bits RSA is disallowed by NIST SP 800-131A; OpenSSH itself still accepts 1024,
    /// so this is our floor, not theirs.
    /// </summary>
    public const int MinimumRsaKeySize = 2048;

    /// <summary>The public key blob: ecdsa-sha2-nistp256/384/521 or ssh-rsa.</summary>
    public static byte[] PublicKeyBlob(AsymmetricAlgorithm key)
    {
        var writer = new SshWireWriter();
        writer.WriteString(KeyType(key));
        WriteKeyFields(writer, key);
        return writer.ToArray();
    }

    /// <summary>An authorized_keys / TrustedUserCAKeys line: "&lt;type&gt; &lt;base64 blob&gt; &lt;comment&gt;".</summary>
    public static string PublicKeyLine(AsymmetricAlgorithm key, string comment) =>
        KeyLine(KeyType(key), PublicKeyBlob(key), comment);

    /// <summary>
    /// A private key file that <c>ssh -i</c> loads: OpenSSH reads traditional PEM through OpenSSL,
    /// so SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" work without the openssh-key-v1
    /// format. The file is unencrypted: write it with mode 0600 or ssh refuses it.
    /// </summary>
    public static string PrivateKeyPem(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _ = KeyType(key); // reject what OpenSSH could not use before exporting anything
        return key switch
        {
            ECDsa ecdsa => ecdsa.ExportECPrivateKeyPem(),
            RSA rsa => rsa.ExportRSAPrivateKeyPem(),
            _ => throw Unsupported(key),
        };
    }

    /// <summary>"SHA256:" + unpadded base64 of SHA-256 over the public key blob, as <c>ssh-keygen -l</c> prints.</summary>
    public static string Fingerprint(AsymmetricAlgorithm key) => Fingerprint(PublicKeyBlob(key));

    /// <summary>The fingerprint of a key blob already in wire form (e.g. a certificate's signature key).</summary>
    public static string Fingerprint(ReadOnlySpan<byte> publicKeyBlob) =>
        "SHA256:" + Convert.ToBase64String(SHA256.HashData(publicKeyBlob)).TrimEnd('=');

    /// <summary>The plain key type name: "ecdsa-sha2-nistp256", …, or "ssh-rsa".</summary>
    public static string KeyType(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        switch (key)
        {
            case ECDsa ecdsa:
                return SshEcdsaCurve.Of(ecdsa).KeyType;
            case RSA rsa:
                if (rsa.KeySize < MinimumRsaKeySize)
                    throw new ArgumentException($"RSA key of {rsa.KeySize} bits is too small; at least {MinimumRsaKeySize} bits are required.");
                return RsaKeyType;
            default:
                throw Unsupported(key);
        }
    }

    /// <summary>
    /// The key-specific fields that follow the type name, shared by plain keys and certificates
    /// (PROTOCOL.certkeys puts the same fields after the nonce):
    /// ECDSA: string curve, string Q (SEC1 uncompressed point, RFC 5656 §3.1); RSA: mpint e, mpint n.
    /// </summary>
    public static void WriteKeyFields(SshWireWriter writer, AsymmetricAlgorithm key)
    {
        switch (key)
        {
            case ECDsa ecdsa:
                var curve = SshEcdsaCurve.Of(ecdsa);
                var q = ecdsa.ExportParameters(includePrivateParameters: false).Q;
                // .NET pads X and Y to the field size, which is what the uncompressed form needs.
                writer.WriteString(curve.Identifier);
                writer.WriteString([0x04, .. q.X!, .. q.Y!]);
                break;
            case RSA rsa:
                var parameters = rsa.ExportParameters(includePrivateParameters: false);
                writer.WriteMpint(parameters.Exponent);
                writer.WriteMpint(parameters.Modulus);
                break;
            default:
                throw Unsupported(key);
        }
    }

    internal static string KeyLine(string keyType, byte[] blob, string comment)
    {
        ArgumentNullException.ThrowIfNull(comment);
        if (comment.AsSpan().ContainsAny('\r', '\n'))
            throw new ArgumentException("A key line comment cannot contain a line break.", nameof(comment));
        var line = keyType + " " + Convert.ToBase64String(blob);
        return comment.Length == 0 ? line : line + " " + comment;
    }

    internal static ArgumentException Unsupported(AsymmetricAlgorithm key) =>
        new($"Key type {key.GetType().Name} is not supported for OpenSSH; use ECDsa (P-256, P-384, P-521) or RSA.");
}
