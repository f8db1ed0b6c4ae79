using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Validation;

/// <summary>
/// What certificates Gatehouse accepts, matching what an AWS ALB accepts in mutual TLS so a certificate works the
/// same with and without the balancer: X.509v3; RSA 2048–8192 or ECDSA P-256/384/521; SHA-256/384/512 signatures
/// with RSA PKCS#1 v1.5, RSASSA-PSS (MGF1) or ECDSA (shared/spec/lb-client-cert-headers.md §1.2).
/// </summary>
internal static class CertificatePolicy
{
    private const string RsaKey = "1.2.840.113549.1.1.1", EcKey = "1.2.840.10045.2.1", RsaPss = "1.2.840.113549.1.1.10";

    private static readonly Dictionary<string, string> Curves = new()
    {
        ["1.2.840.10045.3.1.7"] = "P-256",
        ["1.3.132.0.34"] = "P-384",
        ["1.3.132.0.35"] = "P-521",
    };

    private static readonly HashSet<string> Sha2 = ["2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"];

    private static readonly Dictionary<string, string> Signatures = new()
    {
        ["1.2.840.113549.1.1.11"] = "sha256WithRSAEncryption",
        ["1.2.840.113549.1.1.12"] = "sha384WithRSAEncryption",
        ["1.2.840.113549.1.1.13"] = "sha512WithRSAEncryption",
        ["1.2.840.10045.4.3.2"] = "ecdsa-with-SHA256",
        ["1.2.840.10045.4.3.3"] = "ecdsa-with-SHA384",
        ["1.2.840.10045.4.3.4"] = "ecdsa-with-SHA512",
    };

    /// <summary>Null when the certificate's version and key are acceptable, else why not.</summary>
    public static string? CheckKeyAndVersion(X509Certificate2 certificate)
    {
        if (certificate.Version != 3)
            return $"it is an X.509v{certificate.Version} certificate; only X.509v3 is accepted";
        var keyOid = certificate.PublicKey.Oid.Value;
        if (keyOid == RsaKey)
        {
            using var rsa = certificate.GetRSAPublicKey();
            var bits = rsa?.KeySize ?? 0;
            return bits is >= 2048 and <= 8192 ? null : $"its RSA key has {bits} bits; 2048 to 8192 are accepted";
        }
        if (keyOid == EcKey)
        {
            string? curve = null;
            try
            {
                var oid = new AsnReader(certificate.PublicKey.EncodedParameters?.RawData ?? [], AsnEncodingRules.DER).ReadObjectIdentifier();
                curve = Curves.GetValueOrDefault(oid);
            }
            catch (AsnContentException) { }
            return curve is null ? "its ECDSA key is not on P-256, P-384 or P-521" : null;
        }
        return $"its key type {certificate.PublicKey.Oid.FriendlyName ?? keyOid} is not accepted (RSA or ECDSA only)";
    }

    /// <summary>Null when the signature algorithm is acceptable, else why not.</summary>
    public static string? CheckSignatureAlgorithm(X509Certificate2 certificate)
    {
        var oid = certificate.SignatureAlgorithm.Value ?? "";
        if (Signatures.ContainsKey(oid)) return null;
        if (oid == RsaPss) return CheckPssParameters(certificate.RawData);
        return $"it is signed with {certificate.SignatureAlgorithm.FriendlyName ?? oid}; SHA-256/384/512 with RSA, RSA-PSS or ECDSA is required";
    }

    /// <summary>RSASSA-PSS parameters (RFC 4055 §3.1): the hash defaults to SHA-1 when absent, so it must be named.</summary>
    private static string? CheckPssParameters(byte[] certificateDer)
    {
        try
        {
            var certificate = new AsnReader(certificateDer, AsnEncodingRules.DER).ReadSequence();
            certificate.ReadEncodedValue(); // tbsCertificate
            var algorithm = certificate.ReadSequence();
            algorithm.ReadObjectIdentifier();
            if (!algorithm.HasData) return "it is signed with RSA-PSS using the default SHA-1 hash; SHA-256/384/512 is required";
            var parameters = algorithm.ReadSequence();
            var hashTag = new Asn1Tag(TagClass.ContextSpecific, 0);
            if (!parameters.HasData || !parameters.PeekTag().HasSameClassAndValue(hashTag))
                return "it is signed with RSA-PSS using the default SHA-1 hash; SHA-256/384/512 is required";
            var hash = parameters.ReadSequence(hashTag).ReadSequence().ReadObjectIdentifier();
            return Sha2.Contains(hash) ? null : $"it is signed with RSA-PSS over hash {hash}; SHA-256/384/512 is required";
        }
        catch (AsnContentException)
        {
            return "its RSA-PSS signature parameters are malformed";
        }
    }

    public static bool AllowsClientAuth(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension eku)
            {
                foreach (var usage in eku.EnhancedKeyUsages)
                    if (usage.Value is "1.3.6.1.5.5.7.3.2" or "2.5.29.37.0")
                        return true;
                return false;
            }
        }
        return true; // no EKU extension: any purpose (RFC 5280 §4.2.1.12)
    }

    public static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    public static bool IsSelfIssued(X509Certificate2 certificate) =>
        certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    public static string Describe(X509Certificate2 certificate) => certificate.Subject.Length > 0 ? certificate.Subject : $"serial {certificate.SerialNumber}";

    internal static string Sha256Fingerprint(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawData));
}
