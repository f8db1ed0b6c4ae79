namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// Google Cloud Application Load Balancers (spec §3): custom request headers the operator names, filled from
/// {client_cert_present}, {client_cert_chain_verified}, {client_cert_error}, {client_cert_sha256_fingerprint}
/// (base64 SHA-256 of the leaf), {client_cert_leaf} and {client_cert_chain} (RFC 9440 form, chain without the leaf).
/// In ALLOW_INVALID_OR_MISSING_CLIENT_CERT mode anything reaches the backend, so chain_verified is carried in the
/// claims (false is a claim, not a refusal); headers that contradict each other are refused.
/// </summary>
internal sealed class GcpFormat() : ForwardedCertificateFormat("gcp", new Dictionary<HeaderRole, string>
{
    [HeaderRole.Present] = "X-Client-Cert-Present",
    [HeaderRole.Verify] = "X-Client-Cert-Chain-Verified",
    [HeaderRole.Error] = "X-Client-Cert-Error",
    [HeaderRole.Hash] = "X-Client-Cert-Hash",
    [HeaderRole.Leaf] = "X-Client-Cert-Leaf",
    [HeaderRole.Chain] = "X-Client-Cert-Chain",
})
{
    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var present = headers.Read(HeaderRole.Present);
        var verified = headers.Read(HeaderRole.Verify);
        // client_cert_error may list several error names, so commas are allowed there.
        var error = headers.Read(HeaderRole.Error, commaMeansJoined: false);
        var hash = headers.Read(HeaderRole.Hash);
        var leaf = headers.Read(HeaderRole.Leaf);
        var chain = headers.Read(HeaderRole.Chain, commaMeansJoined: false);
        foreach (var header in (HeaderValue[])[present, verified, error, hash, leaf, chain])
            if (header.Error is not null) return PresentedDecode.Refused(header.Error);

        var presentFlag = ReadBoolean(present, out var problem);
        if (problem is not null) return PresentedDecode.Refused(problem);
        var claims = new BalancerClaims(ReadBoolean(verified, out problem), error.Text?.Trim());
        if (problem is not null) return PresentedDecode.Refused(problem);

        if (presentFlag == false && (leaf.IsPresent || chain.IsPresent))
            return PresentedDecode.Refused($"{present.Name} is false but {(leaf.IsPresent ? leaf.Name : chain.Name)} carries a certificate; the headers contradict each other", claims);
        if (presentFlag == true && leaf.IsAbsent)
            // GCP fills client_cert_leaf only when validation passed (spec §3), so a certificate was presented but
            // cannot be checked here; treating that as "no certificate" would hide a bad one.
            return PresentedDecode.Refused($"{present.Name} is true but {leaf.Name} is empty, so the certificate cannot be checked"
                + (claims.Detail is null ? "" : $" ({error.Name}: {UntrustedText.Show(claims.Detail, 120)})"), claims);
        if (leaf.IsAbsent && hash.IsPresent)
            return PresentedDecode.Refused($"{hash.Name} was sent without {leaf.Name}", claims);

        var result = Rfc9440Format.Decode(leaf, chain, headers.Limits, claims);
        if (result.Status != DecodeStatus.Decoded || hash.IsAbsent) return result;
        var mismatch = Digests.Check(hash, result.Chain![0], DigestSpelling.Base64);
        return mismatch is null ? result : PresentedDecode.Refused(mismatch, claims, result.Chain);
    }

    /// <summary>GCP writes "true" or "false"; other spellings are accepted case-insensitively, anything else refused.</summary>
    private static bool? ReadBoolean(HeaderValue header, out string? problem)
    {
        problem = null;
        if (header.IsAbsent) return null;
        var text = header.Text.AsSpan().Trim(HeaderValue.Whitespace);
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
        if (text.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
        problem = $"{header.Name} is '{UntrustedText.Show(text)}'; it should be true or false";
        return null;
    }
}
