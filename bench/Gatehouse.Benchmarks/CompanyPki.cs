using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Benchmarks;

/// <summary>
/// A company PKI (root → issuing CA → client leaf, EC P-256) made in-process, for the formats that forward a chain.
/// Gatehouse's own user CA signs user certificates directly (a Gatehouse leaf's chain is leaf + user CA), so a
/// 3-certificate chain can only come from a company CA trusted through trust.client_ca_files, as in ALB passthrough.
/// </summary>
internal sealed class CompanyPki : IDisposable
{
    public const string IssuingName = "CN=Bench Corp Issuing,O=Bench Corp";

    public CompanyPki(DateTimeOffset now)
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var notBefore = now.AddHours(-1);
        Root = Ca(new CertificateRequest("CN=Bench Corp Root,O=Bench Corp", rootKey, HashAlgorithmName.SHA256), null, rootKey, notBefore, now.AddYears(10), 1);
        Issuing = Ca(new CertificateRequest(IssuingName, issuingKey, HashAlgorithmName.SHA256), Root, rootKey, notBefore, now.AddYears(5), 2);

        var leaf = new CertificateRequest("CN=dana,O=Bench Corp", leafKey, HashAlgorithmName.SHA256);
        leaf.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leaf.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leaf.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddEmailAddress("dana@corp.example");
        leaf.CertificateExtensions.Add(sans.Build());
        Leaf = Sign(leaf, Issuing, issuingKey, notBefore, now.AddYears(1), 0x1001);
    }

    public X509Certificate2 Root { get; }
    public X509Certificate2 Issuing { get; }
    public X509Certificate2 Leaf { get; }

    /// <summary>Leaf first, root last: what a client presents when it sends its whole chain.</summary>
    public X509Certificate2[] Chain => [Leaf, Issuing, Root];

    private static X509Certificate2 Ca(CertificateRequest request, X509Certificate2? issuer, ECDsa issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter, long serial)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return Sign(request, issuer, issuerKey, notBefore, notAfter, serial);
    }

    private static X509Certificate2 Sign(CertificateRequest request, X509Certificate2? issuer, ECDsa issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter, long serial)
    {
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is not null) request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var made = request.Create(issuer?.SubjectName ?? request.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), notBefore, notAfter,
            BitConverter.GetBytes(serial).Reverse().SkipWhile(b => b == 0).ToArray());
        return X509CertificateLoader.LoadCertificate(made.RawData); // public part only, as a balancer forwards it
    }

    public void Dispose()
    {
        Leaf.Dispose();
        Issuing.Dispose();
        Root.Dispose();
    }
}
