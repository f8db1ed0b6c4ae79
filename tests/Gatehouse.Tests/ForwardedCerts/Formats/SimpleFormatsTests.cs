using Gatehouse.ForwardedCerts.Formats;
using static Gatehouse.Tests.ForwardedCerts.Formats.Encode;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>Traefik, nginx, HAProxy, Cloudflare and Azure: one or two headers each.</summary>
public sealed class SimpleFormatsTests
{
    private static readonly TestPki Pki = TestPki.Shared;

    [Fact]
    public void Traefik_decodes_the_comma_joined_chain_leaf_first()
    {
        const string header = "X-Forwarded-Tls-Client-Cert";
        var value = string.Join(",", Pki.EcChain.Select(Base64));
        AssertDecoded(Decode("traefik", (header, value)), Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        AssertDecoded(Decode("traefik", (header, value.Replace(",", " , ") + "\n")), Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        // Traefik v2 query-escaped the joined value; some consumers expect URL-encoded PEM (spec §4.2).
        AssertDecoded(Decode("traefik", (header, Url(value, ""))), Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        AssertDecoded(Decode("traefik", (header, Alb(Pki.RsaChain))), Pki.RsaLeaf, Pki.RsaIntermediate, Pki.RsaRoot);
    }

    [Fact]
    public void Traefik_refuses_empty_entries_deep_chains_and_bad_escapes()
    {
        const string header = "X-Forwarded-Tls-Client-Cert";
        AssertRefused(Decode("traefik", (header, $"{Base64(Pki.EcLeaf)},,{Base64(Pki.EcRoot)}")), "empty entry at position 2");
        AssertRefused(Decode("traefik", (header, $"{Base64(Pki.EcLeaf)},")), "empty entry at position 2");
        AssertRefused(Decode("traefik", (header, string.Join(",", Enumerable.Repeat(Base64(Pki.EcLeaf), 5)))), "holds more than 4 certificates");
        AssertRefused(Decode("traefik", (header, Base64(Pki.EcLeaf) + "%2")), "is neither base64 nor URL-encoded: '%2'");
        AssertRefused(Decode("traefik", (header, Base64(Pki.EcLeaf)[..^4])), "certificate 1 is not");
    }

    [Theory]
    [InlineData("SUCCESS", true, null)]
    [InlineData("FAILED:certificate has expired", false, "certificate has expired")]
    [InlineData("FAILED:unable to get issuer certificate, depth 1", false, "unable to get issuer certificate, depth 1")]
    public void Nginx_carries_the_verify_verdict(string verify, bool verified, string? detail)
    {
        var result = Decode("nginx", ("X-SSL-Client-Cert", Nginx(Pki.EcLeaf)), ("X-SSL-Client-Verify", verify));
        AssertDecoded(result, Pki.EcLeaf);
        Assert.Equal(new BalancerClaims(verified, detail), result.Claims);
    }

    [Fact]
    public void Nginx_decodes_fully_escaped_pem_with_crlf_and_without_a_verify_header()
    {
        var escaped = Nginx(Pki.EcLeaf);
        Assert.Contains("%2B", escaped);
        Assert.Contains("%3D", escaped);
        AssertDecoded(Decode("nginx", ("X-SSL-Client-Cert", escaped)), Pki.EcLeaf);
        AssertDecoded(Decode("nginx", ("X-SSL-Client-Cert", Url(Pem(Pki.RsaLeaf).Replace("\n", "\r\n"), ""))), Pki.RsaLeaf);
    }

    [Fact]
    public void Nginx_refuses_contradictions_unknown_verdicts_and_chains()
    {
        AssertRefused(Decode("nginx", ("X-SSL-Client-Cert", Nginx(Pki.EcLeaf)), ("X-SSL-Client-Verify", "NONE")), "says NONE", "contradict");
        Assert.Equal(DecodeStatus.Absent, Decode("nginx", ("X-SSL-Client-Verify", "NONE")).Status);
        Assert.Equal(DecodeStatus.Absent, Decode("nginx", ("X-SSL-Client-Cert", ""), ("X-SSL-Client-Verify", "NONE")).Status);
        AssertRefused(Decode("nginx", ("X-SSL-Client-Verify", "SUCCESS")), "X-SSL-Client-Cert is missing");
        AssertRefused(Decode("nginx", ("X-SSL-Client-Cert", Nginx(Pki.EcLeaf)), ("X-SSL-Client-Verify", "OK")), "X-SSL-Client-Verify is 'OK'");
        AssertRefused(Decode("nginx", ("X-SSL-Client-Cert", Url(Pem(Pki.EcLeaf, Pki.EcIntermediate), ""))), "holds more than one certificate");
        AssertRefused(Decode("nginx", ("X-SSL-Client-Cert", Nginx(Pki.EcLeaf)), ("X-SSL-Client-Verify", "SUCCESS"), ("X-SSL-Client-Verify", "SUCCESS")),
            "X-SSL-Client-Verify was sent 2 times");
    }

    [Theory]
    [InlineData("0", true, null)]
    [InlineData("20", false, "20")]
    [InlineData(" 10 ", false, "10")]
    public void Haproxy_carries_ssl_c_verify(string verify, bool verified, string? detail)
    {
        var result = Decode("haproxy", ("X-SSL-Client-DER", Base64(Pki.EcLeaf)), ("X-SSL-Client-Verify", verify));
        AssertDecoded(result, Pki.EcLeaf);
        Assert.Equal(new BalancerClaims(verified, detail), result.Claims);
    }

    [Fact]
    public void Haproxy_tolerates_wrapped_base64_and_refuses_contradictions_and_trailing_bytes()
    {
        var wrapped = string.Join("\r\n", Base64(Pki.RsaLeaf).Chunk(64).Select(chunk => new string(chunk))) + "\n";
        AssertDecoded(Decode("haproxy", ("X-SSL-Client-DER", wrapped)), Pki.RsaLeaf);
        Assert.Equal(DecodeStatus.Absent, Decode("haproxy", ("X-SSL-Client-Verify", "0")).Status);
        AssertRefused(Decode("haproxy", ("X-SSL-Client-Verify", "21")), "reports verify error 21 but X-SSL-Client-DER is missing");
        AssertRefused(Decode("haproxy", ("X-SSL-Client-DER", Base64(Pki.EcLeaf)), ("X-SSL-Client-Verify", "-1")), "X-SSL-Client-Verify is '-1'");
        AssertRefused(Decode("haproxy", ("X-SSL-Client-DER", Convert.ToBase64String([.. Pki.EcLeaf.RawData, .. Pki.EcIntermediate.RawData]))),
            "X-SSL-Client-DER is not DER:", "bytes follow the end of the certificate");
    }

    [Fact]
    public void Cloudflare_checks_the_digest_in_hex_or_base64_when_present()
    {
        AssertDecoded(Decode("cloudflare", ("Cf-Client-Cert-Der-Base64", Base64(Pki.EcLeaf))), Pki.EcLeaf);
        AssertDecoded(Decode("cloudflare", ("Cf-Client-Cert-Der-Base64", Base64(Pki.EcLeaf) + "\r\n"), ("Cf-Client-Cert-Sha256", HexSha256(Pki.EcLeaf))), Pki.EcLeaf);
        AssertDecoded(Decode("cloudflare", ("Cf-Client-Cert-Der-Base64", Base64(Pki.EcLeaf)), ("Cf-Client-Cert-Sha256", Base64Sha256(Pki.EcLeaf))), Pki.EcLeaf);
        AssertRefused(Decode("cloudflare", ("Cf-Client-Cert-Der-Base64", Base64(Pki.EcLeaf)), ("Cf-Client-Cert-Sha256", HexSha256(Pki.RsaLeaf))), "does not match");
        AssertRefused(Decode("cloudflare", ("Cf-Client-Cert-Sha256", HexSha256(Pki.RsaLeaf))), "was sent without Cf-Client-Cert-Der-Base64");
    }

    [Fact]
    public void Azure_decodes_the_base64_leaf_and_refuses_joined_copies_and_bad_base64()
    {
        AssertDecoded(Decode("azure-arr", ("X-ARR-ClientCert", Base64(Pki.RsaLeaf) + "\n")), Pki.RsaLeaf);
        AssertRefused(Decode("azure-arr", ("X-ARR-ClientCert", $"{Base64(Pki.RsaLeaf)}, {Base64(Pki.EcLeaf)}")), "X-ARR-ClientCert contains a comma");
        AssertRefused(Decode("azure-arr", ("X-ARR-ClientCert", Base64(Pki.EcLeaf).Replace('+', '-'))), "X-ARR-ClientCert is not base64: it contains '-'");
        AssertRefused(Decode("azure-arr", ("X-ARR-ClientCert", Convert.ToBase64String("not a certificate"u8))), "X-ARR-ClientCert is not DER");
    }
}
