namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// Cloudflare's legacy forwarding (spec §4.1): Cf-Client-Cert-Der-Base64 is base64 of the DER leaf, with
/// Cf-Client-Cert-Sha256 beside it. The digest's spelling is not documented, so hex and base64 are both accepted and
/// checked when present; anything else there is refused rather than ignored.
/// </summary>
internal sealed class CloudflareFormat() : ForwardedCertificateFormat("cloudflare", new Dictionary<HeaderRole, string>
{
    [HeaderRole.Cert] = "Cf-Client-Cert-Der-Base64",
    [HeaderRole.Hash] = "Cf-Client-Cert-Sha256",
})
{
    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var hash = headers.Read(HeaderRole.Hash);
        if (hash.Error is not null) return PresentedDecode.Refused(hash.Error);
        var result = Base64DerLeaf.Decode(headers.Read(HeaderRole.Cert), BalancerClaims.None);
        if (result.Status == DecodeStatus.Absent && hash.IsPresent)
            return PresentedDecode.Refused($"{hash.Name} was sent without {headers.NameOf(HeaderRole.Cert)}");
        if (result.Status != DecodeStatus.Decoded || !hash.IsPresent) return result;
        var mismatch = Digests.Check(hash, result.Chain![0], DigestSpelling.Hex | DigestSpelling.Base64);
        return mismatch is null ? result : PresentedDecode.Refused(mismatch, discard: result.Chain);
    }
}
