using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>
/// Writes CRLs field by field with <see cref="AsnWriter"/>, for the malformed or unusual shapes that
/// neither openssl nor CertificateRevocationListBuilder will produce (version 3, mismatched algorithms,
/// critical entry extensions). Signed with ECDSA P-256 / SHA-256 so they are otherwise well-formed.
/// </summary>
internal sealed record HandMadeCrl
{
    public const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";

    public int? Version { get; init; } = 1;
    public string InnerAlgorithm { get; init; } = EcdsaWithSha256;
    public string OuterAlgorithm { get; init; } = EcdsaWithSha256;
    public string IssuerName { get; init; } = "CN=Hand Made";
    public List<(byte[] Serial, List<(string Oid, bool Critical, byte[] Value)> Extensions)> Entries { get; init; } = [];
    public List<(string Oid, bool Critical, byte[] Value)> Extensions { get; init; } = [];

    public static byte[] Enumerated(int value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteEnumeratedValue((System.Security.Cryptography.X509Certificates.X509RevocationReason)value);
        return writer.Encode();
    }

    public byte[] Sign(ECDsa key)
    {
        var tbs = new AsnWriter(AsnEncodingRules.DER);
        using (tbs.PushSequence())
        {
            if (Version is { } version) tbs.WriteInteger(version);
            WriteAlgorithm(tbs, InnerAlgorithm);
            tbs.WriteEncodedValue(new System.Security.Cryptography.X509Certificates.X500DistinguishedName(IssuerName).RawData);
            tbs.WriteUtcTime(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
            tbs.WriteGeneralizedTime(new DateTimeOffset(2051, 1, 2, 3, 4, 5, TimeSpan.Zero), omitFractionalSeconds: true);
            if (Entries.Count > 0)
            {
                using (tbs.PushSequence())
                    foreach (var (serial, extensions) in Entries)
                        using (tbs.PushSequence())
                        {
                            tbs.WriteIntegerUnsigned(serial);
                            tbs.WriteUtcTime(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
                            if (extensions.Count > 0) WriteExtensions(tbs, extensions);
                        }
            }
            if (Extensions.Count > 0)
                using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                    WriteExtensions(tbs, Extensions);
        }
        var tbsBytes = tbs.Encode();

        var crl = new AsnWriter(AsnEncodingRules.DER);
        using (crl.PushSequence())
        {
            crl.WriteEncodedValue(tbsBytes);
            WriteAlgorithm(crl, OuterAlgorithm);
            crl.WriteBitString(key.SignData(tbsBytes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }
        return crl.Encode();
    }

    private static void WriteAlgorithm(AsnWriter writer, string oid)
    {
        using (writer.PushSequence()) writer.WriteObjectIdentifier(oid);
    }

    private static void WriteExtensions(AsnWriter writer, List<(string Oid, bool Critical, byte[] Value)> extensions)
    {
        using (writer.PushSequence())
            foreach (var (oid, critical, value) in extensions)
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    if (critical) writer.WriteBoolean(true);
                    writer.WriteOctetString(value);
                }
    }
}
