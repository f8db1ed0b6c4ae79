using System.Buffers.Text;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Pki.Revocation;

/// <summary>
/// Turns a CRL file into a <see cref="CertificateRevocationList"/> (RFC 5280 §5.1). One pass over the
/// DER, slices instead of copies, so a 50 MB CRL (AWS ALB's limit) costs linear time. Malformed or
/// unsupported input is reported as a one-sentence error, never thrown.
/// </summary>
internal static class CrlDecoder
{
    private const string NotACrl = "not a CRL: expected PEM 'X509 CRL' or DER";
    private const string CrlNumber = "2.5.29.20", AuthorityKeyIdentifier = "2.5.29.35", DeltaCrlIndicator = "2.5.29.27";
    private const string ReasonCode = "2.5.29.21";

    // Names only for messages; none of these is processed beyond what is read below.
    private static readonly Dictionary<string, string> ExtensionNames = new()
    {
        ["2.5.29.28"] = " (issuing distribution point)",
        ["2.5.29.29"] = " (certificate issuer: indirect CRL)",
        ["2.5.29.46"] = " (freshest CRL)",
        ["2.5.29.27"] = " (delta CRL indicator)",
    };

    public static CrlParseResult Decode(ReadOnlyMemory<byte> fileContents)
    {
        if (fileContents.IsEmpty)
            return CrlParseResult.Failure("not a CRL: the file is empty");

        // We keep our own copy: the signature is checked later over these bytes, and the caller's buffer
        // may be reused by then. PEM decoding makes that copy anyway; DER is copied once.
        byte[] der;
        if (fileContents.Span[0] == 0x30)
            der = fileContents.ToArray();
        else if (UnwrapPem(fileContents.Span, out der, out var pemError) is false)
            return CrlParseResult.Failure(pemError!);

        var at = new Position();
        try
        {
            return DecodeDer(der, at);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return CrlParseResult.Failure($"malformed CRL at {at}: {e.Message}");
        }
    }

    private static bool UnwrapPem(ReadOnlySpan<byte> text, out byte[] der, out string? error)
    {
        der = [];
        error = null;
        string? firstOtherLabel = null;
        var crlCount = 0;
        PemFields crlFields = default;
        var crlOffset = 0;
        for (var offset = 0; PemEncoding.TryFindUtf8(text[offset..], out var fields);)
        {
            var label = text[offset..][fields.Label];
            if (label.SequenceEqual("X509 CRL"u8))
            {
                crlCount++;
                (crlFields, crlOffset) = (fields, offset);
            }
            else
            {
                firstOtherLabel ??= Encoding.ASCII.GetString(label);
            }
            offset += fields.Location.End.Value;
        }

        if (crlCount > 1)
            error = $"the file holds {crlCount} CRLs; give exactly one CRL per file";
        else if (crlCount == 0)
            error = firstOtherLabel is null ? NotACrl : $"not a CRL: the PEM block is '{firstOtherLabel}', expected 'X509 CRL'";
        if (error is not null)
            return false;

        der = new byte[crlFields.DecodedDataLength];
        var base64 = text[crlOffset..][crlFields.Base64Data];
        // TryFindUtf8 has validated the base64; DecodeFromUtf8 skips the line breaks inside it.
        var status = Base64.DecodeFromUtf8(base64, der, out _, out var written);
        if (status != System.Buffers.OperationStatus.Done || written != der.Length)
        {
            error = "not a CRL: the PEM 'X509 CRL' block is not valid base64";
            return false;
        }
        return true;
    }

    private static CrlParseResult DecodeDer(byte[] der, Position at)
    {
        var file = new AsnReader(der, AsnEncodingRules.DER);
        var certificateList = file.ReadSequence();
        at.Field = "the end of the file";
        if (file.HasData)
            return CrlParseResult.Failure("not a CRL: there are bytes after the DER CertificateList");

        at.Field = "tbsCertList";
        var signedBytes = certificateList.ReadEncodedValue();
        var tbs = new AsnReader(signedBytes, AsnEncodingRules.DER).ReadSequence();

        // RFC 5280 §5.1.2.1: version is absent (v1) or 1 (v2). A certificate's TBS starts with [0] instead.
        at.Field = "tbsCertList.version";
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
            return CrlParseResult.Failure("not a CRL: this is an X.509 certificate");
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            if (!tbs.TryReadInt32(out var version) || version < 0)
                return CrlParseResult.Failure("the CRL version field is out of range");
            if (version > 1)
                return CrlParseResult.Failure($"CRL version {version + 1L} is not supported");
        }

        at.Field = "tbsCertList.signature";
        var innerAlgorithm = ReadSequenceBytes(tbs);
        at.Field = "tbsCertList.issuer";
        var issuer = ReadSequenceBytes(tbs).ToArray();
        at.Field = "tbsCertList.thisUpdate";
        var thisUpdate = ReadTime(tbs);
        at.Field = "tbsCertList.nextUpdate";
        DateTimeOffset? nextUpdate = tbs.HasData && IsTime(tbs.PeekTag()) ? ReadTime(tbs) : null;

        var revoked = new Dictionary<byte[], RevokedCertificate>(SerialNumberComparer.Instance);
        at.Field = "tbsCertList.revokedCertificates";
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var error = ReadRevokedCertificates(tbs.ReadSequence(), revoked, at);
            at.Entry = -1;
            if (error is not null)
                return CrlParseResult.Failure(error);
        }

        BigInteger? crlNumber = null;
        byte[]? authorityKeyIdentifier = null;
        at.Field = "tbsCertList.crlExtensions";
        if (tbs.HasData)
        {
            var extensions = tbs.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)).ReadSequence();
            var seen = new HashSet<string>();
            while (extensions.HasData)
            {
                var (oid, critical, value) = ReadExtension(extensions);
                at.Field = $"CRL extension {oid}";
                if (!seen.Add(oid))
                    return CrlParseResult.Failure($"CRL extension {oid} appears twice (RFC 5280 §4.2)");
                if (oid == CrlNumber)
                    crlNumber = ReadWhole(value, r => r.ReadInteger());
                else if (oid == AuthorityKeyIdentifier)
                    authorityKeyIdentifier = ReadKeyIdentifier(value);
                else if (oid == DeltaCrlIndicator)
                    return CrlParseResult.Failure("delta CRLs (extension 2.5.29.27) are not supported; give the complete CRL");
                else if (critical)
                    return CrlParseResult.Failure($"unsupported critical CRL extension {oid}{ExtensionNames.GetValueOrDefault(oid)} (RFC 5280 §5.2)");
            }
        }
        tbs.ThrowIfNotEmpty();

        at.Field = "signatureAlgorithm";
        var outerAlgorithm = ReadSequenceBytes(certificateList);
        if (!outerAlgorithm.Span.SequenceEqual(innerAlgorithm.Span))
            return CrlParseResult.Failure("the signature algorithm in tbsCertList differs from the outer signatureAlgorithm (RFC 5280 §5.1.1.2)");
        var algorithm = CrlSignatureAlgorithm.Decode(outerAlgorithm);

        at.Field = "signatureValue";
        if (!certificateList.TryReadPrimitiveBitString(out var unusedBits, out var signature) || unusedBits != 0)
            return CrlParseResult.Failure("the CRL's signatureValue is not a whole number of bytes");
        certificateList.ThrowIfNotEmpty();

        return CrlParseResult.Success(new CertificateRevocationList(
            issuer, thisUpdate, nextUpdate, crlNumber, authorityKeyIdentifier, revoked, signedBytes, algorithm, signature.ToArray()));
    }

    // RFC 5280 §5.1.2.6 and §5.3. Returns an error sentence, or null.
    private static string? ReadRevokedCertificates(AsnReader list, Dictionary<byte[], RevokedCertificate> revoked, Position at)
    {
        var seen = new List<string>(2);
        for (var index = 0; list.HasData; index++)
        {
            at.Entry = index;
            var entry = list.ReadSequence();
            var serial = SerialNumberComparer.Normalise(entry.ReadIntegerBytes().Span).ToArray();
            var revokedAt = ReadTime(entry);
            X509RevocationReason? reason = null;
            if (entry.HasData)
            {
                var extensions = entry.ReadSequence();
                seen.Clear();
                while (extensions.HasData)
                {
                    var (oid, critical, value) = ReadExtension(extensions);
                    if (seen.Contains(oid))
                        return $"revoked entry {Convert.ToHexString(serial)} has extension {oid} twice (RFC 5280 §4.2)";
                    seen.Add(oid);
                    if (oid == ReasonCode)
                    {
                        var code = ReadWhole(value, r => r.ReadEnumeratedValue<X509RevocationReason>());
                        // RFC 5280 §5.3.1: 7 is unused; values past aACompromise (10) are undefined.
                        if (!Enum.IsDefined(code))
                            return $"revoked entry {Convert.ToHexString(serial)} has unknown reason code {(int)code}";
                        reason = code;
                    }
                    else if (critical)
                    {
                        return $"unsupported critical CRL entry extension {oid}{ExtensionNames.GetValueOrDefault(oid)} on serial {Convert.ToHexString(serial)} (RFC 5280 §5.3)";
                    }
                }
            }
            entry.ThrowIfNotEmpty();
            // A serial listed twice is revoked either way; the first entry wins.
            revoked.TryAdd(serial, new RevokedCertificate(serial, revokedAt, reason));
        }
        return null;
    }

    // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1)
    private static (string Oid, bool Critical, ReadOnlyMemory<byte> Value) ReadExtension(AsnReader extensions)
    {
        var extension = extensions.ReadSequence();
        var oid = extension.ReadObjectIdentifier();
        var critical = extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
        if (!extension.TryReadPrimitiveOctetString(out var value))
            throw new AsnContentException($"extension {oid} has a constructed extnValue");
        extension.ThrowIfNotEmpty();
        return (oid, critical, value);
    }

    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... } (RFC 5280 §4.2.1.1)
    private static byte[]? ReadKeyIdentifier(ReadOnlyMemory<byte> value) => ReadWhole(value, r =>
    {
        var sequence = r.ReadSequence();
        var keyIdTag = new Asn1Tag(TagClass.ContextSpecific, 0);
        return sequence.HasData && sequence.PeekTag().HasSameClassAndValue(keyIdTag) ? sequence.ReadOctetString(keyIdTag) : null;
    });

    private static T ReadWhole<T>(ReadOnlyMemory<byte> encoded, Func<AsnReader, T> read)
    {
        var reader = new AsnReader(encoded, AsnEncodingRules.DER);
        var value = read(reader);
        reader.ThrowIfNotEmpty();
        return value;
    }

    private static ReadOnlyMemory<byte> ReadSequenceBytes(AsnReader reader)
    {
        if (!reader.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
            throw new AsnContentException("expected a SEQUENCE");
        return reader.ReadEncodedValue();
    }

    private static bool IsTime(Asn1Tag tag) => tag.HasSameClassAndValue(Asn1Tag.UtcTime) || tag.HasSameClassAndValue(Asn1Tag.GeneralizedTime);

    // RFC 5280 §5.1.2.4: UTCTime through 2049 (two-digit years 50-99 are 19xx), GeneralizedTime from 2050.
    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

    /// <summary>Where the decoder is, for the error message; the entry index is kept as a number so that
    /// a CRL with a million entries does not format a million strings.</summary>
    private sealed class Position
    {
        public string Field { get; set; } = "CertificateList";

        public int Entry { get; set; } = -1;

        public override string ToString() => Entry >= 0 ? $"{Field}[{Entry}]" : Field;
    }
}
