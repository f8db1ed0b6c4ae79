using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Revocation;

/// <summary>
/// An X.509 v2 CRL (RFC 5280 §5) an operator gave us, parsed by <see cref="CrlDecoder"/>.
/// Parsing does not check the signature: call <see cref="IsIssuedBy"/> and <see cref="VerifySignature"/>
/// with the CA before trusting anything in it (unlike <c>CertificateRevocationListBuilder.Load</c>,
/// which checks nothing). Validity in time (<see cref="NextUpdate"/>) is the caller's policy.
/// </summary>
internal sealed class CertificateRevocationList
{
    private readonly byte[] _issuerDer;
    private readonly ReadOnlyMemory<byte> _signedBytes;
    private readonly byte[] _signature;
    private readonly CrlSignatureAlgorithm _signatureAlgorithm;
    private readonly Dictionary<byte[], RevokedCertificate>.AlternateLookup<ReadOnlySpan<byte>> _revoked;

    internal CertificateRevocationList(
        byte[] issuerDer, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate, BigInteger? crlNumber, byte[]? authorityKeyIdentifier,
        Dictionary<byte[], RevokedCertificate> revoked, ReadOnlyMemory<byte> signedBytes, CrlSignatureAlgorithm signatureAlgorithm, byte[] signature)
    {
        _issuerDer = issuerDer;
        Issuer = new X500DistinguishedName(issuerDer);
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        CrlNumber = crlNumber;
        AuthorityKeyIdentifier = authorityKeyIdentifier;
        _revoked = revoked.GetAlternateLookup<ReadOnlySpan<byte>>();
        _signedBytes = signedBytes;
        _signatureAlgorithm = signatureAlgorithm;
        _signature = signature;
    }

    /// <summary>
    /// Parses a file holding exactly one CRL, PEM (<c>-----BEGIN X509 CRL-----</c>) or DER. Never throws
    /// for bad input: a malformed or unsupported CRL comes back as <see cref="CrlParseResult.Error"/>.
    /// </summary>
    public static CrlParseResult Parse(ReadOnlyMemory<byte> fileContents) => CrlDecoder.Decode(fileContents);

    public X500DistinguishedName Issuer { get; }

    public DateTimeOffset ThisUpdate { get; }

    /// <summary>When the next CRL is due (RFC 5280 §5.1.2.5); null only in CRLs that do not conform to RFC 5280.</summary>
    public DateTimeOffset? NextUpdate { get; }

    /// <summary>The CRL number extension (2.5.29.20, RFC 5280 §5.2.3): larger means newer.</summary>
    public BigInteger? CrlNumber { get; }

    /// <summary>The keyIdentifier of the authority key identifier extension (2.5.29.35, RFC 5280 §5.2.1).</summary>
    public byte[]? AuthorityKeyIdentifier { get; }

    /// <summary>The name of the signature algorithm, as refused or accepted (for messages and listings).</summary>
    public string SignatureAlgorithm => _signatureAlgorithm.Name;

    /// <summary>The number of distinct revoked serial numbers.</summary>
    public int Count => _revoked.Dictionary.Count;

    /// <summary>
    /// Looks a serial number up in O(1). <paramref name="serialNumberBigEndian"/> is big-endian, as in the
    /// certificate's DER and <see cref="X509Certificate2.SerialNumberBytes"/> (i.e. <c>GetSerialNumber()</c>
    /// reversed, which is little-endian). Leading zero bytes are ignored: 00 8F 01 and 8F 01 are the same serial.
    /// </summary>
    public bool IsRevoked(ReadOnlySpan<byte> serialNumberBigEndian, [MaybeNullWhen(false)] out RevokedCertificate entry) =>
        _revoked.TryGetValue(serialNumberBigEndian, out entry);

    /// <summary>Is <paramref name="certificate"/>'s serial on this CRL? Only meaningful if this CRL is from its issuer.</summary>
    public bool IsRevoked(X509Certificate2 certificate, [MaybeNullWhen(false)] out RevokedCertificate entry) =>
        IsRevoked(certificate.SerialNumberBytes.Span, out entry);

    /// <summary>
    /// Does this CRL name <paramref name="candidate"/> as its issuer? The CRL issuer must be DER-equal to the
    /// candidate's subject, and when the CRL has an authority key identifier and the candidate a subject key
    /// identifier, those must match too (RFC 5280 §5.2.1: tells apart several keys of one CA name).
    /// DER equality is stricter than RFC 5280 §7.1 name matching; CAs re-encode names rarely and then we refuse.
    /// </summary>
    public bool IsIssuedBy(X509Certificate2 candidate)
    {
        if (!candidate.SubjectName.RawData.AsSpan().SequenceEqual(_issuerDer))
            return false;
        if (AuthorityKeyIdentifier is null)
            return true;
        var subjectKeyIdentifier = candidate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault();
        return subjectKeyIdentifier is null || subjectKeyIdentifier.SubjectKeyIdentifierBytes.Span.SequenceEqual(AuthorityKeyIdentifier);
    }

    /// <summary>
    /// Verifies the signature over the exact DER bytes of tbsCertList (RFC 5280 §5.1.1.3) with
    /// <paramref name="issuer"/>'s public key, after checking that its key usage, if present, allows
    /// signing CRLs (RFC 5280 §4.2.1.3, §6.3.3 f). It does not check names: see <see cref="IsIssuedBy"/>.
    /// </summary>
    public CrlSignatureCheck VerifySignature(X509Certificate2 issuer)
    {
        var keyUsage = issuer.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (keyUsage is not null && !keyUsage.KeyUsages.HasFlag(X509KeyUsageFlags.CrlSign))
            return CrlSignatureCheck.Invalid($"{issuer.Subject} may not sign CRLs: its key usage lacks cRLSign (RFC 5280 §4.2.1.3)");
        return _signatureAlgorithm.Verify(_signedBytes.Span, _signature, issuer);
    }
}
