using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Ocsp;

/// <summary>
/// The CertID of RFC 6960 §4.1.1: SHA-1 of the issuer's name and of its public key (the hash every responder
/// understands, RFC 5019 §2.1.1), and the certificate's serial as it is in the certificate's DER.
/// </summary>
internal sealed record OcspCertId(byte[] IssuerNameHash, byte[] IssuerKeyHash, byte[] SerialNumber)
{
    public const string Sha1Oid = "1.3.14.3.2.26";

    public static OcspCertId For(X509Certificate2 certificate, X509Certificate2 issuer) =>
        new(SHA1.HashData(issuer.SubjectName.RawData), KeyHash(issuer), certificate.SerialNumberBytes.ToArray());

    /// <summary>SHA-1 of the subjectPublicKey BIT STRING's value (RFC 6960 §4.1.1; also the byKey responder id).</summary>
    public static byte[] KeyHash(X509Certificate2 certificate) => SHA1.HashData(certificate.PublicKey.EncodedKeyValue.RawData);

    /// <summary>What responses are cached under: the issuer's key hash and the serial.</summary>
    public string CacheKey => Convert.ToHexString(IssuerKeyHash) + ":" + Convert.ToHexString(SerialNumber);

    public void WriteTo(AsnWriter writer)
    {
        writer.PushSequence();
        writer.PushSequence();
        writer.WriteObjectIdentifier(Sha1Oid);
        writer.WriteNull();
        writer.PopSequence();
        writer.WriteOctetString(IssuerNameHash);
        writer.WriteOctetString(IssuerKeyHash);
        writer.WriteInteger(SerialNumber);
        writer.PopSequence();
    }

    /// <summary>True when a response's CertID (hash algorithm OID, name hash, key hash, serial) is this one.</summary>
    public bool Matches(string hashOid, ReadOnlySpan<byte> nameHash, ReadOnlySpan<byte> keyHash, ReadOnlySpan<byte> serial) =>
        hashOid == Sha1Oid && nameHash.SequenceEqual(IssuerNameHash) && keyHash.SequenceEqual(IssuerKeyHash) && serial.SequenceEqual(SerialNumber);
}

/// <summary>Builds an OCSPRequest (RFC 6960 §4.1.1) for one certificate, unsigned, with an optional nonce (RFC 8954).</summary>
internal static class OcspRequest
{
    public const string NonceOid = "1.3.6.1.5.5.7.48.1.2";

    public static byte[] Encode(OcspCertId id, byte[]? nonce)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.PushSequence(); // OCSPRequest
        writer.PushSequence(); // TBSRequest (version v1 is the DEFAULT, so absent)
        writer.PushSequence(); // requestList
        writer.PushSequence(); // Request
        id.WriteTo(writer);
        writer.PopSequence();
        writer.PopSequence();
        if (nonce is not null)
        {
            var explicitTwo = new Asn1Tag(TagClass.ContextSpecific, 2, isConstructed: true);
            writer.PushSequence(explicitTwo); // requestExtensions [2] EXPLICIT
            writer.PushSequence(); // Extensions
            writer.PushSequence(); // Extension
            writer.WriteObjectIdentifier(NonceOid);
            var inner = new AsnWriter(AsnEncodingRules.DER);
            inner.WriteOctetString(nonce); // RFC 8954 §2.1: the extnValue holds an OCTET STRING
            writer.WriteOctetString(inner.Encode());
            writer.PopSequence();
            writer.PopSequence();
            writer.PopSequence(explicitTwo);
        }
        writer.PopSequence();
        writer.PopSequence();
        return writer.Encode();
    }
}
