namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>Azure App Service (spec §4.5): X-ARR-ClientCert is base64 of the DER leaf; App Service verifies nothing.</summary>
internal sealed class AzureArrFormat : ForwardedCertificateFormat
{
    public override string Id => "azure-arr";

    public override IReadOnlyDictionary<HeaderRole, string> DefaultHeaders { get; } =
        new Dictionary<HeaderRole, string> { [HeaderRole.Cert] = "X-ARR-ClientCert" };

    public override PresentedDecode DecodePresented(ReceivedHeaders headers, IReadOnlyDictionary<HeaderRole, string> names, DecodeLimits limits) =>
        Base64DerLeaf.Decode(HeaderValue.Read(headers, NameOf(HeaderRole.Cert, names), limits, commaMeansJoined: true), BalancerClaims.None);
}
