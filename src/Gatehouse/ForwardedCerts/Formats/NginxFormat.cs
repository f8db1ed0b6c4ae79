namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// nginx (spec §4.3): headers are whatever the operator proxy_set_header's; the convention is X-SSL-Client-Cert ←
/// $ssl_client_escaped_cert (URL-encoded PEM of the leaf; nginx exposes no chain) and X-SSL-Client-Verify ←
/// $ssl_client_verify (SUCCESS, FAILED:reason, or NONE). With ssl_verify_client optional the verdict matters, so it
/// is carried in the claims; a verdict that contradicts the certificate header is refused.
/// </summary>
internal sealed class NginxFormat() : ForwardedCertificateFormat("nginx", new Dictionary<HeaderRole, string>
{
    [HeaderRole.Cert] = "X-SSL-Client-Cert",
    [HeaderRole.Verify] = "X-SSL-Client-Verify",
})
{
    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var cert = headers.Read(HeaderRole.Cert);
        if (cert.Error is not null) return PresentedDecode.Refused(cert.Error);
        // Not comma-checked: a FAILED reason is free text from OpenSSL.
        var verify = headers.Read(HeaderRole.Verify, commaMeansJoined: false);
        if (verify.Error is not null) return PresentedDecode.Refused(verify.Error);

        var text = verify.Text?.Trim(' ', '\t');
        BalancerClaims claims;
        if (text is null) claims = BalancerClaims.None;
        else if (text == "SUCCESS") claims = new(true, null);
        else if (text.StartsWith("FAILED:", StringComparison.Ordinal)) claims = new(false, text["FAILED:".Length..]);
        else if (text == "NONE")
            return cert.IsPresent
                ? PresentedDecode.Refused($"{verify.Name} says NONE (no certificate) but {cert.Name} holds one; the two headers contradict each other")
                : PresentedDecode.Absent();
        else return PresentedDecode.Refused($"{verify.Name} is '{UntrustedText.Show(text)}'; nginx sends SUCCESS, FAILED:reason or NONE");

        if (cert.IsAbsent)
            return text is null
                ? PresentedDecode.Absent()
                : PresentedDecode.Refused($"{verify.Name} says '{UntrustedText.Show(text)}' but {cert.Name} is missing; the two headers contradict each other", claims);

        var leaf = new PresentedChain(cert.Text!.Length);
        var error = CertificateEncodings.ReadUrlEncodedPem(cert.Name, cert.Text!, maxCertificates: 1, leaf);
        return error is null ? PresentedDecode.Decoded(leaf, claims) : PresentedDecode.Refused(error, claims, leaf);
    }
}
