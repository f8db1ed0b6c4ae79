using Gatehouse.ForwardedCerts.Formats;
using static Gatehouse.Tests.ForwardedCerts.Formats.Encode;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

public sealed class GcpAndRfc9440FormatTests
{
    private static readonly TestPki Pki = TestPki.Shared;

    private static (string, string)[] Gcp(string present = "true", string verified = "true", string? error = null, string? hash = null) =>
    [
        ("X-Client-Cert-Present", present),
        ("X-Client-Cert-Chain-Verified", verified),
        .. error is null ? Array.Empty<(string, string)>() : [("X-Client-Cert-Error", error)],
        ("X-Client-Cert-Hash", hash ?? Base64Sha256(Pki.EcLeaf)),
        ("X-Client-Cert-Leaf", Sf(Pki.EcLeaf)),
        ("X-Client-Cert-Chain", $"{Sf(Pki.EcIntermediate)},{Sf(Pki.EcRoot)}"),
    ];

    [Fact]
    public void Gcp_decodes_leaf_and_chain_with_the_verified_claim()
    {
        var result = Decode("gcp", Gcp());
        AssertDecoded(result, Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        Assert.Equal(new BalancerClaims(true, null), result.Claims);
    }

    [Fact]
    public void Gcp_chain_not_verified_is_a_claim_not_a_refusal()
    {
        var result = Decode("gcp", Gcp(verified: "false", error: "client_cert_validation_failed"));
        AssertDecoded(result, Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        Assert.Equal(new BalancerClaims(false, "client_cert_validation_failed"), result.Claims);
    }

    [Fact]
    public void Gcp_refuses_a_hash_mismatch_and_a_hex_hash()
    {
        AssertRefused(Decode("gcp", Gcp(hash: Base64Sha256(Pki.RsaLeaf))), "X-Client-Cert-Hash does not match the certificate");
        AssertRefused(Decode("gcp", Gcp(hash: HexSha256(Pki.EcLeaf))), "X-Client-Cert-Hash is not a SHA-256 digest", "44 characters of base64");
    }

    [Fact]
    public void Gcp_present_flag_must_agree_with_the_certificate()
    {
        AssertRefused(Decode("gcp", Gcp(present: "false")), "X-Client-Cert-Present is false but X-Client-Cert-Leaf carries a certificate");
        Assert.Equal(DecodeStatus.Absent, Decode("gcp", ("X-Client-Cert-Present", "false"), ("X-Client-Cert-Chain-Verified", "false"),
            ("X-Client-Cert-Error", "client_cert_not_provided")).Status);
        var result = Decode("gcp", ("X-Client-Cert-Present", "true"), ("X-Client-Cert-Chain-Verified", "false"),
            ("X-Client-Cert-Error", "client_cert_chain_invalid_eku"), ("X-Client-Cert-Leaf", ""));
        AssertRefused(result, "X-Client-Cert-Present is true but X-Client-Cert-Leaf is empty", "client_cert_chain_invalid_eku");
        Assert.Equal(false, result.Claims.Verified);
        AssertRefused(Decode("gcp", Gcp(present: "yes")), "X-Client-Cert-Present is 'yes'");
    }

    [Fact]
    public void Gcp_reads_operator_chosen_header_names()
    {
        var names = new Dictionary<HeaderRole, string>
        {
            [HeaderRole.Present] = "X-Mtls-Present", [HeaderRole.Leaf] = "X-Mtls-Leaf", [HeaderRole.Hash] = "X-Mtls-Sha256",
        };
        var headers = ReceivedHeaders.Of(("X-Mtls-Present", "true"), ("X-Mtls-Leaf", Sf(Pki.RsaLeaf)), ("X-Mtls-Sha256", Base64Sha256(Pki.RsaLeaf)));
        AssertDecoded(ForwardedCertificateFormats.ById["gcp"].Decode(headers, names, new DecodeLimits()), Pki.RsaLeaf);
    }

    [Fact]
    public void Rfc9440_decodes_leaf_and_intermediates_with_optional_whitespace_and_missing_padding()
    {
        AssertDecoded(Decode("rfc9440", ("Client-Cert", Sf(Pki.EcLeaf)), ("Client-Cert-Chain", $"{Sf(Pki.EcIntermediate)}, {Sf(Pki.EcRoot)}")),
            Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        AssertDecoded(Decode("rfc9440", ("Client-Cert", $" :{Base64(Pki.EcLeaf).TrimEnd('=')}:\r\n")), Pki.EcLeaf);
        AssertDecoded(Decode("rfc9440", ("Client-Cert", Sf(Pki.RsaLeaf)), ("Client-Cert-Chain", Sf(Pki.RsaIntermediate))), Pki.RsaLeaf, Pki.RsaIntermediate);
    }

    [Fact]
    public void Rfc9440_refuses_malformed_or_contradictory_values()
    {
        AssertRefused(Decode("rfc9440", ("Client-Cert", $"{Sf(Pki.EcLeaf)},{Sf(Pki.RsaLeaf)}")), "Client-Cert contains a comma");
        AssertRefused(Decode("rfc9440", ("Client-Cert", Base64(Pki.EcLeaf))), "not wrapped in colons");
        AssertRefused(Decode("rfc9440", ("Client-Cert", $":{Base64(Pki.EcLeaf)[..40]} {Base64(Pki.EcLeaf)[40..]}:")), "is not base64");
        AssertRefused(Decode("rfc9440", ("Client-Cert-Chain", Sf(Pki.EcIntermediate))), "Client-Cert-Chain was sent without Client-Cert");
        AssertRefused(Decode("rfc9440", ("Client-Cert", Sf(Pki.EcLeaf)), ("Client-Cert-Chain", $"{Sf(Pki.EcIntermediate)},,{Sf(Pki.EcRoot)}")), "empty member at position 2");
        AssertRefused(Decode("rfc9440", ("Client-Cert", Sf(Pki.EcLeaf)), ("Client-Cert-Chain", $"{Sf(Pki.EcIntermediate)};a=1")), "member 1");
        AssertRefused(Decode("rfc9440", ("Client-Cert", Sf(Pki.EcLeaf)),
            ("Client-Cert-Chain", string.Join(",", Enumerable.Repeat(Sf(Pki.EcIntermediate), 4)))), "more than 3 intermediate certificates");
    }
}
