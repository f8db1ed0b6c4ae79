using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>
/// Two small PKIs made in-process at test time (EC P-256 and RSA 2048): root → intermediate → leaf. The EC leaf's
/// subject needs RFC 2253 escapes (comma, plus, quote, backslash, leading '#') and has a multi-valued RDN.
/// </summary>
internal sealed class TestPki
{
    private static readonly Lazy<TestPki> Instance = new(() => new TestPki());

    public static TestPki Shared => Instance.Value;

    public static readonly DateTimeOffset NotBefore = new(2025, 3, 1, 8, 30, 15, TimeSpan.Zero);
    public static readonly DateTimeOffset NotAfter = new(2027, 3, 1, 8, 30, 15, TimeSpan.Zero);

    public X509Certificate2 EcRoot { get; }
    public X509Certificate2 EcIntermediate { get; }
    public X509Certificate2 EcLeaf { get; }
    public ECDsa EcIntermediateKey { get; }
    public X509Certificate2 RsaRoot { get; }
    public X509Certificate2 RsaIntermediate { get; }
    public X509Certificate2 RsaLeaf { get; }

    /// <summary>The EC leaf's subject as ALB would write it (RFC 2253, most specific first).</summary>
    public const string EcLeafSubject2253 = @"CN=Doe\, Jane+UID=jdoe,OU=R\+D,L=Back\\slash \""quoted\"",ST=\#1,O=Example\, Inc.,C=US";
    public const string EcIntermediate2253 = "CN=Gatehouse Test EC Issuing,O=Gatehouse Test";

    public X509Certificate2[] EcChain => [EcLeaf, EcIntermediate, EcRoot];
    public X509Certificate2[] RsaChain => [RsaLeaf, RsaIntermediate, RsaRoot];

    private TestPki()
    {
        using var ecRootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        EcIntermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ecLeafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        EcRoot = Ca(new CertificateRequest("CN=Gatehouse Test EC Root,O=Gatehouse Test", ecRootKey, HashAlgorithmName.SHA256), null, X509SignatureGenerator.CreateForECDsa(ecRootKey), [1]);
        EcIntermediate = Ca(new CertificateRequest("CN=Gatehouse Test EC Issuing,O=Gatehouse Test", EcIntermediateKey, HashAlgorithmName.SHA256), EcRoot, X509SignatureGenerator.CreateForECDsa(ecRootKey), [2]);
        // 03A5B1…: a serial whose hex keeps a leading zero, like AWS's example (spec §1.4).
        // ECDSA signatures vary in length: sign until the leaf's base64 has '=' padding and a '+' (the cases spec §1.3 is about).
        do
        {
            EcLeaf = Leaf(new CertificateRequest(new X500DistinguishedName(LeafSubjectDer()), ecLeafKey, HashAlgorithmName.SHA256), EcIntermediate,
                X509SignatureGenerator.CreateForECDsa(EcIntermediateKey), [0x03, 0xA5, 0xB1, 0x7E]);
        }
        while (EcLeaf.RawData.Length % 3 == 0 || !Convert.ToBase64String(EcLeaf.RawData).Contains('+'));

        using var rsaRootKey = RSA.Create(2048);
        using var rsaIntermediateKey = RSA.Create(2048);
        using var rsaLeafKey = RSA.Create(2048);
        var pkcs1 = RSASignaturePadding.Pkcs1;
        RsaRoot = Ca(new CertificateRequest("CN=Gatehouse Test RSA Root", rsaRootKey, HashAlgorithmName.SHA256, pkcs1), null, X509SignatureGenerator.CreateForRSA(rsaRootKey, pkcs1), [1]);
        RsaIntermediate = Ca(new CertificateRequest("CN=Gatehouse Test RSA Issuing", rsaIntermediateKey, HashAlgorithmName.SHA256, pkcs1), RsaRoot, X509SignatureGenerator.CreateForRSA(rsaRootKey, pkcs1), [2]);
        RsaLeaf = Leaf(new CertificateRequest("CN=rsa-client,O=Gatehouse Test", rsaLeafKey, HashAlgorithmName.SHA256, pkcs1), RsaIntermediate,
            X509SignatureGenerator.CreateForRSA(rsaIntermediateKey, pkcs1), [0x00, 0xC4, 0x11]);
    }

    private static X509Certificate2 Ca(CertificateRequest request, X509Certificate2? issuer, X509SignatureGenerator signer, byte[] serial)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return Sign(request, issuer, signer, serial);
    }

    private static X509Certificate2 Leaf(CertificateRequest request, X509Certificate2 issuer, X509SignatureGenerator signer, byte[] serial)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddDnsName("client.example.test");
        request.CertificateExtensions.Add(sans.Build());
        return Sign(request, issuer, signer, serial);
    }

    private static X509Certificate2 Sign(CertificateRequest request, X509Certificate2? issuer, X509SignatureGenerator signer, byte[] serial)
    {
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is not null) request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var made = request.Create(issuer?.SubjectName ?? request.SubjectName, signer, NotBefore, NotAfter, serial);
        return X509CertificateLoader.LoadCertificate(made.RawData); // public part only, as a balancer would forward it
    }

    /// <summary>C=US, O=Example, Inc., ST=#1, L=Back\slash "quoted", OU=R+D, {CN=Doe, Jane + UID=jdoe} in DER order.</summary>
    private static byte[] LeafSubjectDer()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            Rdn(writer, ("2.5.4.6", "US", UniversalTagNumber.PrintableString));
            Rdn(writer, ("2.5.4.10", "Example, Inc.", UniversalTagNumber.UTF8String));
            Rdn(writer, ("2.5.4.8", "#1", UniversalTagNumber.UTF8String));
            Rdn(writer, ("2.5.4.7", "Back\\slash \"quoted\"", UniversalTagNumber.UTF8String));
            Rdn(writer, ("2.5.4.11", "R+D", UniversalTagNumber.UTF8String));
            Rdn(writer, ("2.5.4.3", "Doe, Jane", UniversalTagNumber.UTF8String), ("0.9.2342.19200300.100.1.1", "jdoe", UniversalTagNumber.UTF8String));
        }
        return writer.Encode();
    }

    private static void Rdn(AsnWriter writer, params (string Oid, string Value, UniversalTagNumber Type)[] attributes)
    {
        using (writer.PushSetOf())
            foreach (var (oid, value, type) in attributes)
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(type, value);
                }
    }
}
