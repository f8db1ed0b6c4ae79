using Gatehouse.ForwardedCerts.Formats;
using static Gatehouse.Tests.ForwardedCerts.Formats.Encode;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

public sealed class AwsAlbFormatTests
{
    private const string Passthrough = "aws-alb-passthrough";
    private const string Verify = "aws-alb-verify";
    private const string Chain = "X-Amzn-Mtls-Clientcert";
    private static readonly TestPki Pki = TestPki.Shared;

    [Fact]
    public void Passthrough_decodes_the_whole_presented_chain_leaf_first_with_literal_padding()
    {
        var value = Alb(Pki.EcChain);
        Assert.StartsWith("-----BEGIN%20CERTIFICATE-----%0AMII", value);
        Assert.Contains("=%0A-----END", value); // the EC leaf is made to need padding
        var result = Decode(Passthrough, (Chain, value));
        AssertDecoded(result, Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        Assert.Equal(BalancerClaims.None, result.Claims);
    }

    [Fact]
    public void Passthrough_decodes_padding_written_as_percent_3D_as_in_AWS_example()
    {
        var value = AlbExample(Pki.EcChain);
        Assert.Contains("%3D%0A-----END", value);
        Assert.DoesNotContain("=", value);
        AssertDecoded(Decode(Passthrough, (Chain, value)), Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        AssertDecoded(Decode(Passthrough, (Chain, AlbExample(Pki.RsaChain))), Pki.RsaLeaf, Pki.RsaIntermediate, Pki.RsaRoot);
    }

    [Fact]
    public void Passthrough_keeps_a_literal_plus_in_the_base64_body()
    {
        var value = Alb(Pki.EcLeaf);
        Assert.Contains('+', value); // the EC leaf is made to have one; form-decoding would turn it into a space
        AssertDecoded(Decode(Passthrough, (Chain, value)), Pki.EcLeaf);
    }

    public static TheoryData<string, string> WhitespaceVariants => new()
    {
        { "CRLF line breaks", Url(Pem(TestPki.Shared.EcChain).Replace("\n", "\r\n"), "+=/") },
        { "literal newlines", Url(Pem(TestPki.Shared.EcChain), "+=/\n") },
        { "no trailing newline", Alb(TestPki.Shared.EcChain)[..^3] },
        { "extra trailing newlines and spaces", Alb(TestPki.Shared.EcChain) + "%0A%0A " },
        { "lower-case escapes", Url(Pem(TestPki.Shared.EcChain), "+=/", lowerHex: true) },
        { "one line per certificate", Url(Pem(TestPki.Shared.EcChain).Replace("\n", "").Replace("----------", "-----\n-----"), "+=/") },
    };

    [Theory, MemberData(nameof(WhitespaceVariants))]
    public void Passthrough_tolerates_whitespace_a_balancer_might_produce(string variant, string value)
    {
        Assert.NotEmpty(variant);
        AssertDecoded(Decode(Passthrough, (Chain, value)), Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
    }

    [Fact]
    public void Passthrough_refuses_a_bad_percent_escape_naming_its_offset()
    {
        var value = Alb(Pki.EcLeaf);
        var broken = value[..120] + "%G1" + value[120..];
        var result = Decode(Passthrough, (Chain, broken));
        Assert.Equal("X-Amzn-Mtls-Clientcert is not URL-encoded PEM: '%G1' at offset 120 is not a percent-escape", result.Error);
        AssertRefused(Decode(Passthrough, (Chain, value + "%4")), "'%4' at offset");
    }

    [Theory]
    [InlineData("junk before", "hello%0A", "", "instead of -----BEGIN CERTIFICATE-----")]
    [InlineData("junk after", "", "%0Atrailer", "follows certificate 1")]
    [InlineData("junk between", "", "%0A.%0A", "follows certificate 1")]
    public void Passthrough_refuses_anything_but_whitespace_around_blocks(string variant, string before, string after, string phrase)
    {
        Assert.NotEmpty(variant);
        AssertRefused(Decode(Passthrough, (Chain, before + Alb(Pki.EcLeaf) + after + (after.Length > 0 ? Alb(Pki.EcIntermediate) : ""))), Chain, phrase);
    }

    [Fact]
    public void Passthrough_refuses_other_labels_bad_base64_and_trailing_der_bytes()
    {
        var key = Url("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "+=/");
        AssertRefused(Decode(Passthrough, (Chain, key)), "labelled 'PRIVATE KEY'");
        var badBase64 = Alb(Pki.EcLeaf).Replace("MII", "M*I");
        AssertRefused(Decode(Passthrough, (Chain, badBase64)), "certificate 1 is not base64");
        var padded = Url($"-----BEGIN CERTIFICATE-----\n{Convert.ToBase64String([.. Pki.EcLeaf.RawData, 0, 0])}\n-----END CERTIFICATE-----\n", "+=/");
        AssertRefused(Decode(Passthrough, (Chain, padded)), "2 bytes follow the end of the certificate");
        AssertRefused(Decode(Passthrough, (Chain, Alb(Pki.EcLeaf).Replace("-----END%20CERTIFICATE-----", ""))), "no -----END CERTIFICATE----- line");
    }

    [Fact]
    public void Passthrough_refuses_duplicates_joined_values_oversize_and_deep_chains()
    {
        var value = Alb(Pki.EcLeaf);
        AssertRefused(Decode(Passthrough, (Chain, value), (Chain.ToLowerInvariant(), value)), "header X-Amzn-Mtls-Clientcert was sent 2 times");
        AssertRefused(Decode(Passthrough, (Chain, value + "," + value)), "contains a comma");
        AssertRefused(Decode(Passthrough, (Chain, Alb([.. Pki.EcChain, Pki.EcIntermediate, Pki.EcRoot]))), "holds more than 4 certificates");
        var small = ForwardedCertificateFormats.ById[Passthrough].Decode(ReceivedHeaders.Of((Chain, value)), Defaults, new DecodeLimits(MaxHeaderBytes: 100));
        AssertRefused(small, "over the limit of 100");
    }

    [Fact]
    public void Passthrough_without_the_header_or_with_an_empty_one_is_absent_and_a_renamed_header_is_read()
    {
        Assert.Equal(DecodeStatus.Absent, Decode(Passthrough).Status);
        Assert.Equal(DecodeStatus.Absent, Decode(Passthrough, (Chain, " ")).Status);
        var renamed = new Dictionary<HeaderRole, string> { [HeaderRole.Cert] = "X-Corp-Client-Chain" };
        var result = ForwardedCertificateFormats.ById[Passthrough].Decode(ReceivedHeaders.Of(("x-corp-client-chain", Alb(Pki.EcLeaf)), (Chain, "ignored")), renamed, new DecodeLimits());
        AssertDecoded(result, Pki.EcLeaf);
    }

    private static (string, string)[] VerifyHeaders(string? serial = null, string? issuer = null, string? subject = null, string? validity = null) =>
    [
        ("X-Amzn-Mtls-Clientcert-Leaf", Alb(Pki.EcLeaf)),
        ("X-Amzn-Mtls-Clientcert-Serial-Number", serial ?? Serial(Pki.EcLeaf)),
        ("X-Amzn-Mtls-Clientcert-Issuer", issuer ?? TestPki.EcIntermediate2253),
        ("X-Amzn-Mtls-Clientcert-Subject", subject ?? TestPki.EcLeafSubject2253),
        ("X-Amzn-Mtls-Clientcert-Validity", validity ?? Validity(Pki.EcLeaf)),
    ];

    [Fact]
    public void Verify_decodes_the_leaf_cross_checked_and_claims_verification()
    {
        Assert.Equal("03A5B17E", Serial(Pki.EcLeaf));
        Assert.Equal("NotBefore=2025-03-01T08:30:15Z;NotAfter=2027-03-01T08:30:15Z", Validity(Pki.EcLeaf));
        var result = Decode(Verify, VerifyHeaders());
        AssertDecoded(result, Pki.EcLeaf);
        Assert.Equal(new BalancerClaims(true, null), result.Claims);
    }

    [Theory]
    [InlineData("3A5B17E", null, null, null)]
    [InlineData("03a5b17e", null, null, null)]
    [InlineData("0003A5B17E", null, null, null)]
    [InlineData(null, "CN=Gatehouse Test EC Issuing, O=Gatehouse Test", null, null)]
    [InlineData(null, "OID.2.5.4.3=Gatehouse Test EC Issuing,o=Gatehouse Test", null, null)]
    [InlineData(null, null, @"UID=jdoe + CN=Doe\, Jane, OU=R\2BD, L=Back\5Cslash \""quoted\"", ST=\#1, O=""Example, Inc."", C=US", null)]
    [InlineData(null, null, @"CN=Doe\, Jane+UID=jdoe,OU=R\+D,L=Back\\slash \""quoted\"",ST=\#1,O=Example\, Inc.,C=#13025553", null)]
    [InlineData(null, null, null, "NotBefore=2025-03-01T08:30:15+00:00; NotAfter=2027-03-01T08:30:15.000Z")]
    public void Verify_tolerates_equivalent_spellings(string? serial, string? issuer, string? subject, string? validity) =>
        AssertDecoded(Decode(Verify, VerifyHeaders(serial, issuer, subject, validity)), Pki.EcLeaf);

    [Theory]
    [InlineData("03A5B17F", null, null, null, "X-Amzn-Mtls-Clientcert-Serial-Number says 03A5B17F but the certificate's serial number is 03A5B17E")]
    [InlineData("03:A5:B1:7E", null, null, null, "not a hexadecimal serial number")]
    [InlineData(null, "CN=Gatehouse Test RSA Issuing", null, null, "X-Amzn-Mtls-Clientcert-Issuer says")]
    [InlineData(null, null, @"CN=Doe\, Jane,OU=R\+D,L=Back\\slash \""quoted\"",ST=\#1,O=Example\, Inc.,C=US", null, "X-Amzn-Mtls-Clientcert-Subject says")]
    [InlineData(null, null, @"CN=Doe, Jane+UID=jdoe,OU=R\+D,L=Back\\slash \""quoted\"",ST=\#1,O=Example\, Inc.,C=US", null, "X-Amzn-Mtls-Clientcert-Subject")]
    [InlineData(null, null, "CN=x,Q=y", null, "'Q' at offset 5 is not an attribute type")]
    [InlineData(null, null, null, "NotBefore=2025-03-01T08:30:16Z;NotAfter=2027-03-01T08:30:15Z", "X-Amzn-Mtls-Clientcert-Validity says")]
    [InlineData(null, null, null, "NotBefore=2025-03-01T08:30:15Z,NotAfter=2027-03-01T08:30:15Z", "X-Amzn-Mtls-Clientcert-Validity contains a comma")]
    [InlineData(null, null, null, "NotBefore=2025-03-01;NotAfter=2027-03-01T08:30:15Z", "not an ISO 8601 UTC time")]
    public void Verify_refuses_each_cross_check_mismatch(string? serial, string? issuer, string? subject, string? validity, string phrase) =>
        AssertRefused(Decode(Verify, VerifyHeaders(serial, issuer, subject, validity)), phrase);

    [Fact]
    public void Verify_refuses_missing_or_stray_descriptions_and_a_leaf_of_another_certificate()
    {
        var headers = VerifyHeaders();
        AssertRefused(Decode(Verify, [.. headers.Where(h => !h.Item1.EndsWith("Validity", StringComparison.Ordinal))]), "X-Amzn-Mtls-Clientcert-Validity is missing");
        AssertRefused(Decode(Verify, [.. headers.Skip(1)]), "X-Amzn-Mtls-Clientcert-Serial-Number was sent without X-Amzn-Mtls-Clientcert-Leaf");
        AssertRefused(Decode(Verify, [("X-Amzn-Mtls-Clientcert-Leaf", Alb(Pki.RsaLeaf)), .. headers.Skip(1)]), "Serial-Number says");
        AssertRefused(Decode(Verify, [("X-Amzn-Mtls-Clientcert-Leaf", Alb(Pki.EcLeaf, Pki.EcIntermediate)), .. headers.Skip(1)]), "holds more than one certificate");
        Assert.Equal(DecodeStatus.Absent, Decode(Verify).Status);
    }
}
