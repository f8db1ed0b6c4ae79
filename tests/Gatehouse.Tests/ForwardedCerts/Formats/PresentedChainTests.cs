using System.Security.Cryptography.X509Certificates;
using System.Text;
using static Gatehouse.Tests.ForwardedCerts.Formats.Encode;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>
/// What <c>PresentedChain.Load</c> refuses whatever the format: regressions of the header fuzzing and of the
/// forged-identity matrix (issue 18).
/// </summary>
public sealed class PresentedChainTests
{
    private static TestPki Pki => TestPki.Shared;

    [Fact]
    public void A_certificate_whose_validity_cannot_be_read_is_refused_not_thrown()
    {
        // The fuzzer's find: DER the runtime loads, with a notAfter it throws on when first read (month 13).
        var der = Pki.EcLeaf.RawData.ToArray();
        var notAfter = Encoding.ASCII.GetBytes(TestPki.NotAfter.UtcDateTime.ToString("yyMMddHHmmss") + "Z");
        var at = der.AsSpan().IndexOf(notAfter);
        Assert.True(at > 0, "the leaf's notAfter UTCTime was not found");
        der[at + 2] = (byte)'1';
        der[at + 3] = (byte)'3';
        using var broken = X509CertificateLoader.LoadCertificate(der);
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => broken.NotAfter);

        AssertRefused(Decode("aws-alb-passthrough", ("X-Amzn-Mtls-Clientcert", Alb(broken))), "validity cannot be read", "certificate 1");
        AssertRefused(Decode("aws-alb-verify",
            ("X-Amzn-Mtls-Clientcert-Leaf", Alb(broken)), ("X-Amzn-Mtls-Clientcert-Serial-Number", Serial(Pki.EcLeaf)),
            ("X-Amzn-Mtls-Clientcert-Issuer", TestPki.EcIntermediate2253), ("X-Amzn-Mtls-Clientcert-Subject", TestPki.EcLeafSubject2253),
            ("X-Amzn-Mtls-Clientcert-Validity", Validity(Pki.EcLeaf))), "validity cannot be read");
        AssertRefused(Decode("traefik", ("X-Forwarded-Tls-Client-Cert", $"{Base64(Pki.EcLeaf)},{Base64(broken)}")), "certificate 2");
    }

    [Fact]
    public void A_second_end_entity_certificate_after_the_leaf_is_refused()
    {
        // Two values joined into one: traefik's comma list holding a client's copy and the balancer's.
        AssertRefused(Decode("traefik", ("X-Forwarded-Tls-Client-Cert", $"{Base64(Pki.EcLeaf)},{Base64(Pki.RsaLeaf)}")),
            "not a CA's after the leaf", "certificate 2");
        AssertRefused(Decode("aws-alb-passthrough", ("X-Amzn-Mtls-Clientcert", Alb(Pki.EcLeaf, Pki.RsaLeaf, Pki.RsaIntermediate))),
            "certificate 2");
        // A real chain (leaf, issuing CA, root) still decodes.
        AssertDecoded(Decode("traefik", ("X-Forwarded-Tls-Client-Cert", string.Join(",", Pki.EcChain.Select(Base64)))),
            Pki.EcLeaf, Pki.EcIntermediate, Pki.EcRoot);
    }
}
