using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;

namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>Bad files come back as one readable sentence, never as an exception.</summary>
public sealed class CrlParseErrorTests
{
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static readonly (string, bool, byte[]) KeyCompromise = ("2.5.29.21", false, HandMadeCrl.Enumerated(1));

    [Theory]
    [InlineData("", "not a CRL: the file is empty")]
    [InlineData("hello, world", "not a CRL: expected PEM 'X509 CRL' or DER")]
    [InlineData("-----BEGIN X509 CRL-----\n!!not base64!!\n-----END X509 CRL-----\n", "not a CRL: expected PEM 'X509 CRL' or DER")]
    public void Text_that_is_not_a_crl_is_refused(string text, string error)
    {
        Assert.Equal(new CrlParseResult(null, error), CertificateRevocationList.Parse(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Random_bytes_are_refused_without_an_exception()
    {
        var random = new Random(5280);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 300)];
            random.NextBytes(bytes);
            if (i % 2 == 0) bytes[0] = 0x30; // half of them look like DER at first sight
            var result = CertificateRevocationList.Parse(bytes);
            Assert.Null(result.Crl);
            Assert.False(string.IsNullOrEmpty(result.Error));
        }
    }

    [Fact]
    public void Every_truncation_and_every_single_byte_change_is_a_value_not_an_exception()
    {
        var der = new HandMadeCrl { Entries = [([0x8F, 0x01], [KeyCompromise])], Extensions = [("2.5.29.20", false, [0x02, 0x01, 0x07])] }.Sign(Key);
        var issuer = SelfSigned("CN=Hand Made");
        for (var length = 0; length < der.Length; length++)
            Assert.NotNull(CertificateRevocationList.Parse(der.AsMemory(0, length)).Error);
        Assert.StartsWith("malformed CRL at CertificateList: ", CertificateRevocationList.Parse(der.AsMemory(0, der.Length - 1)).Error);
        for (var i = 0; i < der.Length; i++)
        {
            var changed = (byte[])der.Clone();
            changed[i] ^= 0x41;
            var result = CertificateRevocationList.Parse(changed);
            // A change the parser cannot see (inside a value) must still break the signature.
            if (result.Crl is not null)
                Assert.False(result.Crl.VerifySignature(issuer).IsValid, $"byte {i} changed and the signature still verified");
        }
    }

    [Fact]
    public void Bytes_after_the_der_crl_are_refused()
    {
        var der = new HandMadeCrl().Sign(Key);
        Assert.Equal("not a CRL: there are bytes after the DER CertificateList",
            CertificateRevocationList.Parse(der.Append((byte)0x00).ToArray()).Error);
    }

    [Fact]
    public void Hand_made_crl_reads_back_utc_and_generalized_times()
    {
        var crl = OpensslCrlTests.Parse(new HandMadeCrl { Entries = [([0x8F, 0x01], [KeyCompromise])] }.Sign(Key));

        Assert.Equal(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero), crl.ThisUpdate);
        Assert.Equal(new DateTimeOffset(2051, 1, 2, 3, 4, 5, TimeSpan.Zero), crl.NextUpdate);
        Assert.True(crl.IsRevoked([0x8F, 0x01], out var entry));
        Assert.Equal(X509RevocationReason.KeyCompromise, entry.Reason);
        Assert.Null(crl.CrlNumber);
        Assert.Null(crl.AuthorityKeyIdentifier);
    }

    [Fact]
    public void Version_3_is_refused() =>
        AssertRefused(new HandMadeCrl { Version = 2 }, "CRL version 3 is not supported");

    [Fact]
    public void Version_1_without_the_version_field_is_accepted() =>
        Assert.Null(CertificateRevocationList.Parse(new HandMadeCrl { Version = null }.Sign(Key)).Error);

    [Fact]
    public void Inner_and_outer_signature_algorithms_must_agree() =>
        AssertRefused(new HandMadeCrl { OuterAlgorithm = "1.2.840.10045.4.3.3" },
            "the signature algorithm in tbsCertList differs from the outer signatureAlgorithm (RFC 5280 §5.1.1.2)");

    [Fact]
    public void Unknown_critical_entry_extension_is_refused() =>
        AssertRefused(new HandMadeCrl { Entries = [([0x01], [("1.2.3.4", true, [0x05, 0x00])])] },
            "unsupported critical CRL entry extension 1.2.3.4 on serial 01 (RFC 5280 §5.3)");

    [Fact]
    public void Indirect_crl_entry_is_refused() =>
        AssertRefused(new HandMadeCrl { Entries = [([0x01], [("2.5.29.29", true, [0x30, 0x00])])] },
            "unsupported critical CRL entry extension 2.5.29.29 (certificate issuer: indirect CRL) on serial 01 (RFC 5280 §5.3)");

    [Fact]
    public void Unknown_noncritical_entry_extension_is_ignored() =>
        Assert.Null(CertificateRevocationList.Parse(new HandMadeCrl { Entries = [([0x01], [("1.2.3.4", false, [0x05, 0x00])])] }.Sign(Key)).Error);

    [Fact]
    public void Reason_code_7_is_refused() =>
        AssertRefused(new HandMadeCrl { Entries = [([0x01], [("2.5.29.21", false, HandMadeCrl.Enumerated(7))])] },
            "revoked entry 01 has unknown reason code 7");

    [Fact]
    public void Delta_crl_is_refused() =>
        AssertRefused(new HandMadeCrl { Extensions = [("2.5.29.27", true, [0x02, 0x01, 0x01])] },
            "delta CRLs (extension 2.5.29.27) are not supported; give the complete CRL");

    [Fact]
    public void Issuing_distribution_point_is_refused_because_we_do_not_honour_its_scope() =>
        AssertRefused(new HandMadeCrl { Extensions = [("2.5.29.28", true, [0x30, 0x00])] },
            "unsupported critical CRL extension 2.5.29.28 (issuing distribution point) (RFC 5280 §5.2)");

    [Fact]
    public void Extension_given_twice_is_refused() =>
        AssertRefused(new HandMadeCrl { Extensions = [("2.5.29.20", false, [0x02, 0x01, 0x01]), ("2.5.29.20", false, [0x02, 0x01, 0x02])] },
            "CRL extension 2.5.29.20 appears twice (RFC 5280 §4.2)");

    [Fact]
    public void Unknown_signature_algorithm_parses_but_is_refused_at_verification()
    {
        var crl = OpensslCrlTests.Parse(new HandMadeCrl { InnerAlgorithm = "1.3.101.113", OuterAlgorithm = "1.3.101.113" }.Sign(Key));
        Assert.Equal("signature algorithm 1.3.101.113 is not accepted (SHA-256/384/512 only)", crl.VerifySignature(SelfSigned("CN=Hand Made")).Error);
    }

    private static void AssertRefused(HandMadeCrl crl, string error) =>
        Assert.Equal(new CrlParseResult(null, error), CertificateRevocationList.Parse(crl.Sign(Key)));

    private static X509Certificate2 SelfSigned(string subject)
    {
        var request = new CertificateRequest(subject, Key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
