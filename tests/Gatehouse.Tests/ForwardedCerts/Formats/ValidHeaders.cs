using static Gatehouse.Tests.ForwardedCerts.Formats.Encode;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>One valid header set per format, all carrying the EC chain, for the tests that run over every format.</summary>
internal static class ValidHeaders
{
    public static (string Name, string Value)[] For(string formatId)
    {
        var pki = TestPki.Shared;
        return formatId switch
        {
            "aws-alb-passthrough" => [("X-Amzn-Mtls-Clientcert", Alb(pki.EcChain))],
            "aws-alb-verify" =>
            [
                ("X-Amzn-Mtls-Clientcert-Leaf", Alb(pki.EcLeaf)), ("X-Amzn-Mtls-Clientcert-Serial-Number", Serial(pki.EcLeaf)),
                ("X-Amzn-Mtls-Clientcert-Issuer", TestPki.EcIntermediate2253), ("X-Amzn-Mtls-Clientcert-Subject", TestPki.EcLeafSubject2253),
                ("X-Amzn-Mtls-Clientcert-Validity", Validity(pki.EcLeaf)),
            ],
            "envoy-xfcc" =>
            [
                ("x-forwarded-client-cert", $"By=spiffe://front;Hash={HexSha256(pki.EcLeaf)};Cert=\"{Url(Pem(pki.EcLeaf), "")}\";"
                    + $"Chain=\"{Url(Pem(pki.EcChain), "")}\";Subject=\"CN=Doe\\, Jane\";DNS=client.example.test"),
            ],
            "gcp" =>
            [
                ("X-Client-Cert-Present", "true"), ("X-Client-Cert-Chain-Verified", "true"), ("X-Client-Cert-Hash", Base64Sha256(pki.EcLeaf)),
                ("X-Client-Cert-Leaf", Sf(pki.EcLeaf)), ("X-Client-Cert-Chain", $"{Sf(pki.EcIntermediate)},{Sf(pki.EcRoot)}"),
            ],
            "rfc9440" => [("Client-Cert", Sf(pki.EcLeaf)), ("Client-Cert-Chain", $"{Sf(pki.EcIntermediate)}, {Sf(pki.EcRoot)}")],
            "traefik" => [("X-Forwarded-Tls-Client-Cert", string.Join(",", pki.EcChain.Select(Base64)))],
            "nginx" => [("X-SSL-Client-Cert", Nginx(pki.EcLeaf)), ("X-SSL-Client-Verify", "SUCCESS")],
            "haproxy" => [("X-SSL-Client-DER", Base64(pki.EcLeaf)), ("X-SSL-Client-Verify", "0")],
            "cloudflare" => [("Cf-Client-Cert-Der-Base64", Base64(pki.EcLeaf)), ("Cf-Client-Cert-Sha256", HexSha256(pki.EcLeaf))],
            "azure-arr" => [("X-ARR-ClientCert", Base64(pki.EcLeaf))],
            _ => throw new ArgumentException($"no valid headers written for {formatId}"),
        };
    }

    /// <summary>Formats whose headers carry a digest of the leaf, so any altered leaf must be refused outright.</summary>
    public static bool CarriesDigest(string formatId) => formatId is "envoy-xfcc" or "gcp" or "cloudflare";
}
