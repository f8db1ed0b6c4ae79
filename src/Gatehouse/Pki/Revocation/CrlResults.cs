using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Revocation;

/// <summary>One revokedCertificates entry (RFC 5280 §5.1.2.6).</summary>
/// <param name="SerialNumber">Big-endian, leading zero bytes removed (see <see cref="SerialNumberComparer"/>).</param>
/// <param name="Reason">The reasonCode entry extension (RFC 5280 §5.3.1), or null when the CRL does not say.</param>
internal sealed record RevokedCertificate(byte[] SerialNumber, DateTimeOffset RevokedAt, X509RevocationReason? Reason);

/// <summary>Either a parsed CRL or one sentence saying what is wrong with the file.</summary>
internal sealed record CrlParseResult(CertificateRevocationList? Crl, string? Error)
{
    public static CrlParseResult Success(CertificateRevocationList crl) => new(crl, null);

    public static CrlParseResult Failure(string error) => new(null, error);
}

/// <summary>The outcome of checking a CRL's signature; a refused signature is a value, not an exception.</summary>
internal sealed record CrlSignatureCheck(bool IsValid, string? Error)
{
    public static readonly CrlSignatureCheck Valid = new(true, null);

    public static CrlSignatureCheck Invalid(string error) => new(false, error);
}
