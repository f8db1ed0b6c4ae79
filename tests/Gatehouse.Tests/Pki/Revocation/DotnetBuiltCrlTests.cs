using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>CRLs made by .NET's CertificateRevocationListBuilder (which Gatehouse's own CA may use), cross-checked with openssl.</summary>
public sealed class DotnetBuiltCrlTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2031, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Ecdsa_issuer_crl_parses_verifies_and_openssl_agrees()
    {
        using var ca = CreateCa("CN=Dotnet EC Root", ECDsa.Create(ECCurve.NamedCurves.nistP384));
        var builder = new CertificateRevocationListBuilder();
        builder.AddEntry([0x8F, 0x01], Now.AddHours(-1), X509RevocationReason.Superseded);
        builder.AddEntry([0x42], Now.AddHours(-2), reason: null);
        var der = builder.Build(ca, 77, Now.AddDays(7), HashAlgorithmName.SHA384, thisUpdate: Now);

        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("ca.pem"), ca.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("crl.pem"), PemEncoding.WriteString("X509 CRL", der));
        var openssl = await Peer.RunAsync("openssl", "crl", "-in", dir.File("crl.pem"), "-CAfile", dir.File("ca.pem"), "-noout", "-verify");
        Assert.Contains("verify OK", openssl.Output);

        var crl = OpensslCrlTests.Parse(der);
        Assert.Equal("ecdsa-with-SHA384", crl.SignatureAlgorithm);
        Assert.Equal(Now, crl.ThisUpdate);
        Assert.Equal(Now.AddDays(7), crl.NextUpdate);
        Assert.Equal(new BigInteger(77), crl.CrlNumber);
        Assert.Equal(2, crl.Count);
        Assert.True(crl.IsRevoked([0x8F, 0x01], out var superseded));
        Assert.Equal(new RevokedCertificate([0x8F, 0x01], Now.AddHours(-1), X509RevocationReason.Superseded) with { SerialNumber = superseded.SerialNumber }, superseded);
        Assert.True(crl.IsRevoked([0x00, 0x00, 0x42], out var noReason));
        Assert.Null(noReason.Reason);
        Assert.True(crl.IsIssuedBy(ca));
        Assert.True(crl.VerifySignature(ca).IsValid);
    }

    [Fact]
    public async Task Rsa_pss_crl_from_dotnet_verifies_and_openssl_agrees()
    {
        using var ca = CreateCa("CN=Dotnet RSA Root", RSA.Create(2048));
        var builder = new CertificateRevocationListBuilder();
        builder.AddEntry([0x01], Now, X509RevocationReason.CACompromise);
        var der = builder.Build(ca, 1, Now.AddDays(1), HashAlgorithmName.SHA384, RSASignaturePadding.Pss, Now);

        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("ca.pem"), ca.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("crl.pem"), PemEncoding.WriteString("X509 CRL", der));
        Assert.Contains("verify OK", (await Peer.RunAsync("openssl", "crl", "-in", dir.File("crl.pem"), "-CAfile", dir.File("ca.pem"), "-noout", "-verify")).Output);

        var crl = OpensslCrlTests.Parse(der);
        Assert.Equal("rsassaPss with sha384, salt 48", crl.SignatureAlgorithm);
        Assert.True(crl.VerifySignature(ca).IsValid);
        der[^1] ^= 0x80;
        Assert.False(OpensslCrlTests.Parse(der).VerifySignature(ca).IsValid);
    }

    [Fact]
    public void Same_name_but_another_key_is_not_the_issuer()
    {
        using var ca = CreateCa("CN=Twin Root", ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var twin = CreateCa("CN=Twin Root", ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var crl = OpensslCrlTests.Parse(new CertificateRevocationListBuilder().Build(ca, 1, Now.AddDays(1), HashAlgorithmName.SHA256, thisUpdate: Now));

        Assert.True(crl.IsIssuedBy(ca));
        Assert.False(crl.IsIssuedBy(twin)); // the AKI names ca's key, not twin's
        Assert.Equal("the CRL signature does not verify with the key of CN=Twin Root", crl.VerifySignature(twin).Error);
    }

    [Fact]
    public void Issuer_whose_key_usage_lacks_crl_sign_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = CreateCa("CN=Signer", key);
        var crl = OpensslCrlTests.Parse(new CertificateRevocationListBuilder().Build(ca, 1, Now.AddDays(1), HashAlgorithmName.SHA256, thisUpdate: Now));
        // Same name and key, but a key usage that only allows signing certificates.
        var request = new CertificateRequest("CN=Signer", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, critical: true));
        using var certOnly = request.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(1));

        Assert.Equal("CN=Signer may not sign CRLs: its key usage lacks cRLSign (RFC 5280 §4.2.1.3)", crl.VerifySignature(certOnly).Error);
    }

    [Fact]
    public void Crl_with_100_000_entries_parses()
    {
        using var ca = CreateCa("CN=Big Root", ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var builder = new CertificateRevocationListBuilder();
        var serial = new byte[5];
        for (var i = 0; i < 100_000; i++)
        {
            serial[0] = 0x80; // high bit set: every serial is DER-encoded with a leading zero
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(serial.AsSpan(1), i);
            builder.AddEntry(serial, Now.AddSeconds(-i), (X509RevocationReason)(i % 6));
        }
        var der = builder.Build(ca, 9, Now.AddDays(1), HashAlgorithmName.SHA256, thisUpdate: Now);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var crl = OpensslCrlTests.Parse(der);
        output.WriteLine($"parsed {der.Length} bytes in {stopwatch.ElapsedMilliseconds} ms"); // informative only: no timing assertion

        Assert.Equal(100_000, crl.Count);
        Assert.True(crl.IsRevoked([0x00, 0x80, 0x00, 0x01, 0x86, 0x9F], out var last)); // 99 999
        Assert.Equal((X509RevocationReason)(99_999 % 6), last.Reason);
        Assert.False(crl.IsRevoked([0x80, 0x00, 0x01, 0x86, 0xA0], out _)); // 100 000
        Assert.True(crl.VerifySignature(ca).IsValid);
    }

    private static X509Certificate2 CreateCa(string subject, AsymmetricAlgorithm key)
    {
        var request = key switch
        {
            ECDsa ecdsa => new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("unexpected key type", nameof(key)),
        };
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(1));
    }
}
