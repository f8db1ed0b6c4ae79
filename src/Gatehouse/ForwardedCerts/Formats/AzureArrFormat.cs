namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>Azure App Service (spec §4.5): X-ARR-ClientCert is base64 of the DER leaf; App Service verifies nothing.</summary>
internal sealed class AzureArrFormat() : ForwardedCertificateFormat("azure-arr", new Dictionary<HeaderRole, string> { [HeaderRole.Cert] = "X-ARR-ClientCert" })
{
    protected override PresentedDecode Read(FormatHeaders headers) =>
        Base64DerLeaf.Decode(headers.Read(HeaderRole.Cert), BalancerClaims.None);
}
