namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// AWS ALB in passthrough mode (spec §1.3): X-Amzn-Mtls-Clientcert holds the whole chain the client presented, leaf
/// first, as concatenated PEM that is URL-encoded with '+', '=' and '/' left literal (AWS's own example nevertheless
/// writes '=' as %3D, so both are accepted). ALB verified nothing, so the claims are empty.
/// </summary>
internal sealed class AwsAlbPassthroughFormat() : ForwardedCertificateFormat("aws-alb-passthrough", new Dictionary<HeaderRole, string> { [HeaderRole.Cert] = "X-Amzn-Mtls-Clientcert" })
{
    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var header = headers.Read(HeaderRole.Cert);
        if (header.Error is not null) return PresentedDecode.Refused(header.Error);
        if (header.IsAbsent) return PresentedDecode.Absent(); // spec §1.3: what ALB sends without a certificate is undocumented

        var certificates = new PresentedChain(header.Text!.Length);
        var error = CertificateEncodings.ReadUrlEncodedPem(header.Name, header.Text!, headers.Limits.MaxChainDepth, certificates);
        return error is null ? PresentedDecode.Decoded(certificates, BalancerClaims.None) : PresentedDecode.Refused(error, discard: certificates);
    }
}
