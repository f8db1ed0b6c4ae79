using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Edge.Tests;

/// <summary>A CA made at test time (nothing checked in, nothing that expires in the repository) and the client
/// certificates the conformance tests need, written as PEM files for curl.</summary>
internal sealed class TestCa
{
    private readonly ECDsa _key;
    private readonly string _dir;

    private TestCa(string dir, X509Certificate2 certificate, ECDsa key)
    {
        _dir = dir;
        Certificate = certificate;
        _key = key;
        File = Path.Combine(dir, $"ca-{Guid.NewGuid():N}.pem");
        System.IO.File.WriteAllText(File, certificate.ExportCertificatePem() + "\n");
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The CA's certificate as a PEM file.</summary>
    public string File { get; }

    public static TestCa Root(string dir, string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        AddCaExtensions(request);
        var now = DateTimeOffset.UtcNow;
        return new TestCa(dir, request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30)), key);
    }

    public TestCa Intermediate(string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        AddCaExtensions(request);
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(Certificate, now.AddDays(-1), now.AddDays(29), Serial());
        return new TestCa(_dir, issued.CopyWithPrivateKey(key), key);
    }

    private static void AddCaExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }

    /// <summary>A client certificate (ECDSA P-256 unless <paramref name="rsaBits"/>), valid now unless told otherwise.</summary>
    public ClientCertificate Client(string subject, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, int? rsaBits = null,
        HashAlgorithmName? hash = null)
    {
        var now = DateTimeOffset.UtcNow;
        AsymmetricAlgorithm key = rsaBits is { } bits ? RSA.Create(bits) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA rsa ? new CertificateRequest(subject, rsa, hash ?? HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, (ECDsa)key, hash ?? HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        // The CA signs with its own hash unless a weak one is the point of the test (SHA-1 is refused by ALB).
        var generator = X509SignatureGenerator.CreateForECDsa(_key);
        var signed = request.Create(Certificate.SubjectName, hash == HashAlgorithmName.SHA1 ? new Sha1EcdsaGenerator(_key) : generator,
            notBefore ?? now.AddHours(-1), notAfter ?? now.AddDays(10), Serial());
        return Save(signed, key);
    }

    /// <summary>A TLS server certificate for 127.0.0.1 (a listener's), as PEM certificate and key files.</summary>
    public (string Certificate, string Key) Server()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(Certificate, now.AddHours(-1), now.AddDays(10), Serial());
        var saved = Save(issued, key);
        return (saved.CertificateFile, saved.KeyFile);
    }

    /// <summary>An X.509 version 1 client certificate (no version field, no extensions), signed by this CA with ECDSA-SHA256.</summary>
    public ClientCertificate Version1Client(string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        var tbs = new AsnWriter(AsnEncodingRules.DER);
        using (tbs.PushSequence())
        {
            tbs.WriteIntegerUnsigned(Serial());
            WriteAlgorithm(tbs, "1.2.840.10045.4.3.2");
            tbs.WriteEncodedValue(Certificate.SubjectName.RawData);
            using (tbs.PushSequence())
            {
                tbs.WriteUtcTime(now.AddHours(-1));
                tbs.WriteUtcTime(now.AddDays(10));
            }
            tbs.WriteEncodedValue(new X500DistinguishedName(subject).RawData);
            tbs.WriteEncodedValue(key.ExportSubjectPublicKeyInfo());
        }
        var tbsBytes = tbs.Encode();
        var certificate = new AsnWriter(AsnEncodingRules.DER);
        using (certificate.PushSequence())
        {
            certificate.WriteEncodedValue(tbsBytes);
            WriteAlgorithm(certificate, "1.2.840.10045.4.3.2");
            certificate.WriteBitString(_key.SignData(tbsBytes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }
        return Save(X509CertificateLoader.LoadCertificate(certificate.Encode()), key);
    }

    private static void WriteAlgorithm(AsnWriter writer, string oid)
    {
        using (writer.PushSequence()) writer.WriteObjectIdentifier(oid);
    }

    /// <summary>A CRL of this CA revoking <paramref name="revoked"/>, as a PEM file.</summary>
    public string Crl(params X509Certificate2[] revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var certificate in revoked) builder.AddEntry(certificate, DateTimeOffset.UtcNow.AddMinutes(-5));
        var now = DateTimeOffset.UtcNow;
        var der = builder.Build(Certificate, BigInteger.One, now.AddDays(7), HashAlgorithmName.SHA256, thisUpdate: now.AddMinutes(-1));
        var file = Path.Combine(_dir, $"crl-{Guid.NewGuid():N}.pem");
        System.IO.File.WriteAllText(file, PemEncoding.WriteString("X509 CRL", der) + "\n");
        return file;
    }

    private ClientCertificate Save(X509Certificate2 certificate, AsymmetricAlgorithm key)
    {
        var name = Path.Combine(_dir, $"client-{Guid.NewGuid():N}");
        System.IO.File.WriteAllText(name + ".pem", certificate.ExportCertificatePem() + "\n");
        System.IO.File.WriteAllText(name + ".key", key.ExportPkcs8PrivateKeyPem() + "\n");
        return new ClientCertificate(certificate, name + ".pem", name + ".key");
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        return serial;
    }

    /// <summary>ECDSA with SHA-1, for the certificate ALB refuses for its signature (.NET's generator does not offer it).</summary>
    private sealed class Sha1EcdsaGenerator(ECDsa key) : X509SignatureGenerator
    {
        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            WriteAlgorithm(writer, "1.2.840.10045.4.1");
            return writer.Encode();
        }

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) =>
            key.SignData(data, HashAlgorithmName.SHA1, DSASignatureFormat.Rfc3279DerSequence);

        protected override PublicKey BuildPublicKey() => PublicKey.CreateFromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
    }
}

/// <summary>A client certificate and the files curl takes (<c>--cert</c>, <c>--key</c>).</summary>
internal sealed record ClientCertificate(X509Certificate2 Certificate, string CertificateFile, string KeyFile)
{
    /// <summary>A file with this certificate followed by <paramref name="chain"/> (what a client presents).</summary>
    public string WithChain(params TestCa[] chain)
    {
        var file = CertificateFile + ".chain.pem";
        File.WriteAllText(file, File.ReadAllText(CertificateFile) + string.Concat(chain.Select(c => File.ReadAllText(c.File))));
        return file;
    }
}
