using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>What the mutation and fuzz tests ask of a decoded certificate: its to-be-signed part, and whether a key signed it
/// (a mutation that kept a valid signature over changed contents would be a forgery the decoder let through).</summary>
internal static class SignedCertificates
{
    public static byte[]? Tbs(byte[] der)
    {
        try
        {
            return new AsnReader(der, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue().ToArray();
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    public static bool SignedBy(byte[] der, ECDsa issuerKey)
    {
        try
        {
            var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            var tbs = certificate.ReadEncodedValue();
            certificate.ReadSequence();
            var signature = certificate.ReadBitString(out _);
            return issuerKey.VerifyData(tbs.Span, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return false;
        }
    }
}
