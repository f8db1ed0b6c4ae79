using System.Globalization;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// HAProxy (spec §4.4): headers are whatever the operator set-header's; the convention here is X-SSL-Client-DER ←
/// %[ssl_c_der,base64] (the DER leaf) and X-SSL-Client-Verify ← %[ssl_c_verify], the library's verify error number
/// where 0 means no error. HAProxy reports 0 when no certificate was sent at all, so 0 alone means absent.
/// </summary>
internal sealed class HaproxyFormat() : ForwardedCertificateFormat("haproxy", new Dictionary<HeaderRole, string>
{
    [HeaderRole.Cert] = "X-SSL-Client-DER",
    [HeaderRole.Verify] = "X-SSL-Client-Verify",
})
{
    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var cert = headers.Read(HeaderRole.Cert);
        if (cert.Error is not null) return PresentedDecode.Refused(cert.Error);
        var verify = headers.Read(HeaderRole.Verify);
        if (verify.Error is not null) return PresentedDecode.Refused(verify.Error);

        var claims = BalancerClaims.None;
        if (verify.IsPresent)
        {
            var text = verify.Text!.AsSpan().Trim(HeaderValue.Whitespace);
            if (text.IsEmpty || text.Length > 9 || text.ContainsAnyExceptInRange('0', '9')
                || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
                return PresentedDecode.Refused($"{verify.Name} is '{UntrustedText.Show(text)}'; HAProxy's ssl_c_verify is a number, 0 when verification succeeded");
            claims = code == 0 ? new(true, null) : new(false, code.ToString(CultureInfo.InvariantCulture));
        }
        if (cert.IsAbsent && claims.Verified == false)
            return PresentedDecode.Refused($"{verify.Name} reports verify error {claims.Detail} but {cert.Name} is missing; the two headers contradict each other", claims);
        if (cert.IsAbsent) return PresentedDecode.Absent();
        return Base64DerLeaf.Decode(cert, claims);
    }
}
