using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;

namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>CRLs made by the real <c>openssl ca -gencrl</c>, read back and signature-checked.</summary>
public sealed class OpensslCrlTests(OpensslCrlFixture cas) : IClassFixture<OpensslCrlFixture>
{
    private static readonly byte[] RevokedSerial = [0x8F, 0x01];
    private static readonly byte[] GoodSerial = [0x8F, 0x02];

    [Theory]
    [InlineData("rsa-sha256", "sha256WithRSAEncryption")]
    [InlineData("rsa-sha384", "sha384WithRSAEncryption", "-md", "sha384")]
    [InlineData("rsa-pss", "rsassaPss with sha256, salt 32", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32")]
    // A salt length different from the hash length: .NET's own PSS verifier could not check this one.
    [InlineData("rsa-pss-sha512-salt20", "rsassaPss with sha512, salt 20", "-md", "sha512", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20")]
    [InlineData("ec-sha256", "ecdsa-with-SHA256")]
    [InlineData("ec-sha512", "ecdsa-with-SHA512", "-md", "sha512")]
    public async Task Openssl_crl_reads_back_and_verifies_with_its_ca(string name, string algorithm, params string[] args)
    {
        var ca = name.StartsWith("ec", StringComparison.Ordinal) ? cas.Ec : cas.Rsa;
        var pemPath = await ca.GenerateCrlAsync(name, args);
        Assert.Contains("verify OK", (await ca.VerifyWithOpensslAsync(pemPath)).Output);
        var openssl = await ca.DescribeAsync(pemPath);

        var fromPem = Parse(await File.ReadAllBytesAsync(pemPath));
        var fromDer = Parse(await ca.ToDerAsync(pemPath));

        foreach (var crl in new[] { fromPem, fromDer })
        {
            Assert.Equal(algorithm, crl.SignatureAlgorithm);
            Assert.Equal(ca.Subject, crl.Issuer.Name);
            Assert.Equal(openssl.LastUpdate, crl.ThisUpdate);
            Assert.Equal(openssl.NextUpdate, crl.NextUpdate);
            Assert.Equal(BigInteger.Parse(openssl.CrlNumber), crl.CrlNumber);
            Assert.Equal(ca.Certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.ToArray(),
                crl.AuthorityKeyIdentifier);
            Assert.Equal(1, crl.Count);

            Assert.True(crl.IsRevoked(RevokedSerial, out var entry));
            Assert.Equal(RevokedSerial, entry.SerialNumber);
            Assert.Equal(X509RevocationReason.KeyCompromise, entry.Reason);
            Assert.Equal(openssl.RevocationDate, entry.RevokedAt);
            Assert.True(crl.IsRevoked([0x00, 0x8F, 0x01], out _));
            Assert.False(crl.IsRevoked(GoodSerial, out _));

            Assert.True(crl.IsIssuedBy(ca.Certificate));
            Assert.Equal(new CrlSignatureCheck(true, null), crl.VerifySignature(ca.Certificate));
        }
    }

    [Fact]
    public async Task Revoked_leaf_is_found_by_its_certificate_and_the_good_one_is_not()
    {
        var crl = Parse(await File.ReadAllBytesAsync(await cas.Rsa.GenerateCrlAsync("by-certificate")));
        var dir = Path.GetDirectoryName(cas.Rsa.CertificatePath)!;
        using var revoked = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "leaf-8F01.pem"));
        using var good = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "leaf-8F02.pem"));

        Assert.True(crl.IsRevoked(revoked, out _));
        Assert.False(crl.IsRevoked(good, out _));
        // GetSerialNumber() is little-endian: reversed, it is the big-endian form IsRevoked takes.
        Assert.True(crl.IsRevoked(revoked.GetSerialNumber().Reverse().ToArray(), out _));
    }

    [Fact]
    public async Task Crl_does_not_verify_with_another_ca()
    {
        var crl = Parse(await File.ReadAllBytesAsync(await cas.Rsa.GenerateCrlAsync("other-ca")));

        Assert.False(crl.IsIssuedBy(cas.Other.Certificate));
        Assert.Equal(CrlSignatureCheck.Invalid("the CRL signature does not verify with the key of CN=Other Root"),
            crl.VerifySignature(cas.Other.Certificate));
        Assert.Equal(CrlSignatureCheck.Invalid("the CRL is signed with sha256WithRSAEncryption but CN=Corp EC Root does not have an RSA key"),
            crl.VerifySignature(cas.Ec.Certificate));
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("ec")]
    public async Task Flipped_signature_byte_is_refused(string keyType)
    {
        var ca = keyType == "ec" ? cas.Ec : cas.Rsa;
        var der = await ca.ToDerAsync(await ca.GenerateCrlAsync($"flip-{keyType}"));
        der[^1] ^= 0x01; // the signature BIT STRING is the last element of CertificateList

        var check = Parse(der).VerifySignature(ca.Certificate);

        Assert.False(check.IsValid);
        Assert.Equal($"the CRL signature does not verify with the key of {ca.Subject}", check.Error);
    }

    [Fact]
    public async Task Altered_revoked_serial_inside_tbs_is_refused()
    {
        var der = await cas.Rsa.ToDerAsync(await cas.Rsa.GenerateCrlAsync("tamper"));
        var at = der.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x02, 0x03, 0x00, 0x8F, 0x01]);
        Assert.True(at > 0);
        der[at + 4] = 0x03; // un-revoke 8F01 by renaming the entry 8F03

        var crl = Parse(der);

        Assert.False(crl.IsRevoked(RevokedSerial, out _));
        Assert.False(crl.VerifySignature(cas.Rsa.Certificate).IsValid);
    }

    [Fact]
    public async Task Sha1_signed_crl_parses_but_its_signature_is_refused()
    {
        // OpenSSL 3.0 on Debian 12 still signs a CRL with SHA-1 when asked; no .NET fallback needed.
        var pemPath = await cas.Rsa.GenerateCrlAsync("sha1", "-md", "sha1");
        Assert.Contains("verify OK", (await cas.Rsa.VerifyWithOpensslAsync(pemPath)).Output);

        var crl = Parse(await File.ReadAllBytesAsync(pemPath));

        Assert.Equal(CrlSignatureCheck.Invalid("signature algorithm sha1WithRSAEncryption is not accepted (SHA-256/384/512 only)"),
            crl.VerifySignature(cas.Rsa.Certificate));
    }

    [Fact]
    public async Task Unknown_critical_crl_extension_is_refused_and_a_noncritical_one_ignored()
    {
        var critical = await cas.Ec.GenerateCrlAsync("critical", "-crlexts", "crl_ext_unknown_critical");
        var noncritical = await cas.Ec.GenerateCrlAsync("noncritical", "-crlexts", "crl_ext_unknown_noncritical");

        Assert.Equal(new CrlParseResult(null, "unsupported critical CRL extension 1.2.3.4 (RFC 5280 §5.2)"),
            CertificateRevocationList.Parse(await File.ReadAllBytesAsync(critical)));
        Assert.True(Parse(await File.ReadAllBytesAsync(noncritical)).VerifySignature(cas.Ec.Certificate).IsValid);
    }

    [Fact]
    public async Task Next_update_after_2049_is_a_generalized_time()
    {
        // RFC 5280 §5.1.2.4: from 2050 on, openssl must switch to GeneralizedTime.
        var pemPath = await cas.Ec.GenerateCrlAsync("far-future", "-crldays", "10000");
        var openssl = await cas.Ec.DescribeAsync(pemPath);

        var crl = Parse(await File.ReadAllBytesAsync(pemPath));

        Assert.True(crl.NextUpdate!.Value.Year >= 2050);
        Assert.Equal(openssl.NextUpdate, crl.NextUpdate);
        Assert.True(crl.VerifySignature(cas.Ec.Certificate).IsValid);
    }

    [Fact]
    public async Task Openssl_text_output_around_the_pem_block_is_tolerated()
    {
        var pemPath = await cas.Rsa.GenerateCrlAsync("with-text");
        var text = "Certificate Revocation List (CRL):\n  some description\n" + await File.ReadAllTextAsync(pemPath) + "\ntrailer\n";

        var crl = Parse(System.Text.Encoding.ASCII.GetBytes(text));

        Assert.True(crl.VerifySignature(cas.Rsa.Certificate).IsValid);
    }

    [Fact]
    public async Task Certificate_pem_given_as_a_crl_is_refused_by_name()
    {
        var result = CertificateRevocationList.Parse(await File.ReadAllBytesAsync(cas.Rsa.CertificatePath));
        Assert.Equal(new CrlParseResult(null, "not a CRL: the PEM block is 'CERTIFICATE', expected 'X509 CRL'"), result);

        var der = cas.Rsa.Certificate.RawData;
        Assert.Equal(new CrlParseResult(null, "not a CRL: this is an X.509 certificate"), CertificateRevocationList.Parse(der));
    }

    [Fact]
    public async Task Two_crls_in_one_file_are_refused()
    {
        var one = await File.ReadAllTextAsync(await cas.Rsa.GenerateCrlAsync("first"));
        var two = await File.ReadAllTextAsync(await cas.Ec.GenerateCrlAsync("second"));

        var result = CertificateRevocationList.Parse(System.Text.Encoding.ASCII.GetBytes(one + two));

        Assert.Equal(new CrlParseResult(null, "the file holds 2 CRLs; give exactly one CRL per file"), result);
    }

    internal static CertificateRevocationList Parse(byte[] contents)
    {
        var result = CertificateRevocationList.Parse(contents);
        Assert.Null(result.Error);
        return result.Crl!;
    }
}
