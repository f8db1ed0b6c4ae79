using System.Security.Cryptography;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// SSH signature blobs: string algorithm name + string signature data.
/// ECDSA: the data is mpint r + mpint s (RFC 5656 §3.1.2). RSA: we sign rsa-sha2-512, whose data
/// is the PKCS#1 v1.5 signature (RFC 8332 §3); SHA-1 "ssh-rsa" signatures are refused by
/// OpenSSH ≥ 8.8 by default and never produced or accepted here.
/// </summary>
internal static class OpenSshSignature
{
    public const string RsaSha256 = "rsa-sha2-256";
    public const string RsaSha512 = "rsa-sha2-512";

    /// <summary>The signature algorithm name a CA key signs with.</summary>
    public static string AlgorithmFor(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ecdsa => SshEcdsaCurve.Of(ecdsa).KeyType,
        RSA => RsaSha512,
        _ => throw OpenSshKeyFormat.Unsupported(key),
    };

    public static byte[] Sign(AsymmetricAlgorithm key, ReadOnlySpan<byte> data)
    {
        var writer = new SshWireWriter();
        switch (key)
        {
            case ECDsa ecdsa:
                var curve = SshEcdsaCurve.Of(ecdsa);
                // IEEE P1363 gives r||s at fixed width; SSH wants each as a minimal mpint.
                var rs = ecdsa.SignData(data, curve.Hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                var inner = new SshWireWriter();
                inner.WriteMpint(rs.AsSpan(0, rs.Length / 2));
                inner.WriteMpint(rs.AsSpan(rs.Length / 2));
                writer.WriteString(curve.KeyType);
                writer.WriteString(inner.WrittenSpan);
                break;
            case RSA rsa:
                writer.WriteString(RsaSha512);
                writer.WriteString(rsa.SignData(data, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1));
                break;
            default:
                throw OpenSshKeyFormat.Unsupported(key);
        }
        return writer.ToArray();
    }

    /// <summary>
    /// True when the signature blob is a valid signature of the data by the key. A malformed blob,
    /// an algorithm that does not belong to the key, or SHA-1 RSA is simply "not valid".
    /// </summary>
    public static bool Verify(AsymmetricAlgorithm key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signatureBlob)
    {
        try
        {
            var reader = new SshWireReader(signatureBlob);
            var algorithm = reader.ReadText("signature algorithm");
            var signature = reader.ReadString("signature");
            reader.EnsureAtEnd("The signature");
            return key switch
            {
                ECDsa ecdsa => VerifyEcdsa(ecdsa, algorithm, data, signature),
                RSA rsa => algorithm switch
                {
                    RsaSha512 => rsa.VerifyData(data, signature, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1),
                    RsaSha256 => rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                    _ => false,
                },
                _ => false,
            };
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool VerifyEcdsa(ECDsa key, string algorithm, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var curve = SshEcdsaCurve.Of(key);
        if (algorithm != curve.KeyType)
            return false;
        var reader = new SshWireReader(signature);
        var r = reader.ReadUnsignedMpint("ecdsa r");
        var s = reader.ReadUnsignedMpint("ecdsa s");
        reader.EnsureAtEnd("The ECDSA signature");
        if (r.Length > curve.FieldBytes || s.Length > curve.FieldBytes)
            return false;
        // Back to IEEE P1363: each half right-aligned in a field-sized slot.
        var rs = new byte[2 * curve.FieldBytes];
        r.CopyTo(rs.AsSpan(curve.FieldBytes - r.Length));
        s.CopyTo(rs.AsSpan(2 * curve.FieldBytes - s.Length));
        return key.VerifyData(data, rs, curve.Hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
