using Gatehouse.ForwardedCerts.Formats;
using static Gatehouse.Tests.ForwardedCerts.Formats.Encode;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

public sealed class EnvoyXfccFormatTests
{
    private const string Xfcc = "envoy-xfcc";
    private const string Header = "x-forwarded-client-cert";
    private static readonly TestPki Pki = TestPki.Shared;

    /// <summary>Envoy's Cert/Chain: URL-encoded PEM (docs show lower-case escapes such as %0a).</summary>
    private static string EnvoyPem(params System.Security.Cryptography.X509Certificates.X509Certificate2[] certificates) =>
        Url(Pem(certificates), "", lowerHex: true);

    private static string Element(System.Security.Cryptography.X509Certificates.X509Certificate2[] chain, string by = "spiffe://cluster.local/ns/edge/sa/envoy") =>
        $"By={by};Hash={HexSha256(chain[0])};Cert=\"{EnvoyPem(chain[0])}\";Chain=\"{EnvoyPem(chain)}\";"
        + "Subject=\"CN=Doe\\, Jane, O=\\\"Quoted\\\" Corp\";URI=spiffe://example.test/client;DNS=client.example.test;DNS=www.example.test";

    [Fact]
    public void Decodes_one_element_with_quotes_escaped_quotes_dns_list_by_and_uri()
    {
        var result = Decode(Xfcc, (Header, Element(Pki.EcChain)));
        AssertDecoded(result, Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
        Assert.Equal(BalancerClaims.None, result.Claims);
    }

    [Fact]
    public void Refuses_several_elements_whichever_the_last_is()
    {
        // A client's own element passed on by a hop that does not sanitise (APPEND_FORWARD) sits before the hop's:
        // which one is the trusted hop's cannot be told, so neither is taken (issue 18, the forged-identity matrix).
        var value = $"{Element(Pki.RsaChain, "spiffe://front")},{Element(Pki.EcChain, "spiffe://back")}";
        AssertRefused(Decode(Xfcc, (Header, value)), "x-forwarded-client-cert has 2 elements");
        var spaced = $"{Element(Pki.RsaChain)} ,  {Element(Pki.EcChain)}".Replace(";", " ; ");
        AssertRefused(Decode(Xfcc, (Header, spaced)), "SANITIZE_SET");
    }

    [Fact]
    public void Reads_cert_alone_unquoted_and_chain_alone()
    {
        AssertDecoded(Decode(Xfcc, (Header, $"Hash={HexSha256(Pki.EcLeaf).ToUpperInvariant()};Cert={EnvoyPem(Pki.EcLeaf)}")), Pki.EcLeaf);
        AssertDecoded(Decode(Xfcc, (Header, $"hash={HexSha256(Pki.EcLeaf)};chain=\"{Url(Pem(Pki.EcChain).Replace("\n", "\r\n"), "")}\"")),
            Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
    }

    [Fact]
    public void Refuses_a_wrong_hash_a_cert_that_is_not_the_chain_leaf_and_duplicate_keys()
    {
        AssertRefused(Decode(Xfcc, (Header, $"Hash={HexSha256(Pki.RsaLeaf)};Cert=\"{EnvoyPem(Pki.EcLeaf)}\"")),
            "x-forwarded-client-cert Hash does not match the certificate");
        AssertRefused(Decode(Xfcc, (Header, $"Hash=abc;Cert=\"{EnvoyPem(Pki.EcLeaf)}\"")), "is not 64 hexadecimal digits");
        AssertRefused(Decode(Xfcc, (Header, $"Cert=\"{EnvoyPem(Pki.RsaLeaf)}\";Chain=\"{EnvoyPem(Pki.EcChain)}\"")), "Cert is not the first certificate of its Chain");
        AssertRefused(Decode(Xfcc, (Header, $"Cert=\"{EnvoyPem(Pki.EcLeaf)}\";URI=x;Cert=\"{EnvoyPem(Pki.RsaLeaf)}\"")), "has Cert twice");
    }

    [Fact]
    public void Refuses_malformed_values_even_in_earlier_elements()
    {
        var good = Element(Pki.EcChain);
        AssertRefused(Decode(Xfcc, (Header, $"By=x;Subject=\"CN=open,{good}")), "element 1 has");
        AssertRefused(Decode(Xfcc, (Header, $"{good},By=x;Subject=\"CN=open")), "never closed");
        AssertRefused(Decode(Xfcc, (Header, $"By=x;Subj\"ect=1,{good}")), "where a key=value pair should be");
        AssertRefused(Decode(Xfcc, (Header, $"{good},")), "element 2");
        AssertRefused(Decode(Xfcc, (Header, "By=spiffe://a;Hash=" + HexSha256(Pki.EcLeaf))), "carries no Cert or Chain");
        AssertRefused(Decode(Xfcc, (Header, good), (Header, good)), "was sent 2 times");
        AssertRefused(Decode(Xfcc, (Header, $"Cert=\"{EnvoyPem(Pki.EcLeaf).Replace("%0a", "%0g")}\"")), "x-forwarded-client-cert Cert is not URL-encoded PEM: '%0g'");
        Assert.Equal(DecodeStatus.Absent, Decode(Xfcc).Status);
    }
}
