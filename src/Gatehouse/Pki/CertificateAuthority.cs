using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki;

/// <summary>An X.509 certificate authority of the cluster (the user CA or the host CA) with its private key in memory.</summary>
internal sealed class CertificateAuthority(string kind, X509Certificate2 certificate, AsymmetricAlgorithm key) : IDisposable
{
    /// <summary>Which authority of <see cref="Authorities"/> this is ("user", "host", "db-client").</summary>
    public string Kind { get; } = kind;

    /// <summary>The CA certificate, public part only.</summary>
    public X509Certificate2 Certificate { get; } = certificate;

    public X509SignatureGeneratorAndHash Signer => key.SignatureGenerator();

    public X509AuthorityKeyIdentifierExtension AuthorityKeyIdentifier =>
        X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false);

    /// <summary>Creates a self-signed CA valid for ten years.</summary>
    public static CertificateAuthority Create(string kind, string displayName, string cluster, AsymmetricAlgorithm key, DateTimeOffset now)
    {
        var subject = new X500DistinguishedNameBuilder();
        // The builder encodes the last added RDN first: this yields the usual O=…, CN=… DER order (RFC 4514 prints CN first).
        // X500DistinguishedNameBuilder encodes the last RDN added first; this gives the usual DER order O, CN.
        subject.AddCommonName(displayName);
        subject.AddOrganizationName(cluster);
        var request = NewRequest(subject.Build(), key);
        // pathLen 0: Gatehouse CAs sign end-entity certificates only.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        var signer = key.SignatureGenerator();
        using var self = request.Create(subject.Build(), signer.Generator, now.AddMinutes(-1), now.AddYears(10), SerialNumbers.NewRandom());
        return new CertificateAuthority(kind, X509CertificateLoader.LoadCertificate(self.RawData), key);
    }

    /// <summary>Signs an end-entity request; the caller has put the extensions it needs on it.</summary>
    public X509Certificate2 Sign(CertificateRequest request, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serial)
    {
        // Never outlive the CA: a chain with an expired issuer fails anyway, better to say so at issue time.
        if (notAfter > Certificate.NotAfter) notAfter = Certificate.NotAfter;
        request.CertificateExtensions.Add(AuthorityKeyIdentifier);
        return request.Create(Certificate.SubjectName, Signer.Generator, notBefore, notAfter, serial);
    }

    public static CertificateRequest NewRequest(X500DistinguishedName subject, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new ArgumentException($"unsupported key type {key.GetType().Name}", nameof(key)),
    };

    public static CertificateRequest NewRequest(X500DistinguishedName subject, PublicKey key) =>
        key.Oid.Value == "1.2.840.113549.1.1.1"
            ? new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, key, HashAlgorithmName.SHA256);

    public byte[] ExportPrivateKey() => key.ExportPkcs8();

    public string KeyFamily => key.Family();

    public void Dispose()
    {
        key.Dispose();
        Certificate.Dispose();
    }
}
