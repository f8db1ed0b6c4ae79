using Gatehouse.ForwardedCerts;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// Outer/inner binding (ARCHITECTURE §4, docs/alb-mtls.md): a tunnel whose upgrade came through a front that forwarded a
/// client certificate (bind_tunnel_identity: required) may only carry that same user — whatever identity is used inside
/// it: the certificate of a gatehouse-* dial, the certificate of an HTTPS request to the web side, or a browser's web
/// session cookie. A tunnel is never opened inside a tunnel (<see cref="NestedRefusal"/>), so one level is all there is
/// to bind. Every place that turns something inside a tunnel into an identity calls <see cref="EnforceAsync"/>.
/// </summary>
internal static class TunnelBinding
{
    /// <summary>The refusal reason when an inner identity is not the user the front vouched for.</summary>
    public const string Reason = "TunnelBindingRefused";

    /// <summary>The sentence for an upgrade to /v1/tunnel that arrives inside a tunnel. No client needs one (the client
    /// tunnels once and speaks TLS inside), and each level would be a place for the outer identity to get lost.</summary>
    public const string NestedRefusal =
        "a tunnel cannot be opened inside a tunnel: this request already arrived through one, so open /v1/tunnel on the proxy's " +
        "address directly (gatehouse tunnels once, by itself)";

    /// <summary>Null when <paramref name="innerUser"/> is the user the front vouched for; else the sentence for the user.
    /// Users are compared by name: for a company certificate that is the mapped user, so alice's company certificate
    /// outside and alice's Gatehouse certificate inside are one person.</summary>
    private static string? Refusal(OuterIdentity outer, string innerUser, IdentitySource source)
    {
        var setting = $"proxy.trusted_fronts '{outer.Front}' has bind_tunnel_identity: required";
        var byCertificate = source != IdentitySource.WebSession;
        var inner = byCertificate ? $"your inner certificate of {innerUser}" : $"the web session of {innerUser}";
        if (outer.Verdict is not { Status: ForwardedStatus.Authenticated, Identity: { } vouched })
            return $"the client certificate the balancer (front '{outer.Front}') forwarded for this tunnel was refused " +
                   $"({outer.Verdict.Reason}: {outer.Verdict.Message}), so it cannot vouch for {inner}; " +
                   $"{setting}; offer the balancer a certificate of {innerUser}";
        if (string.Equals(vouched.User, innerUser, StringComparison.Ordinal)) return null;
        return byCertificate
            ? $"this tunnel came through the balancer (front '{outer.Front}') with the client certificate of {vouched.User}, but its inner certificate is " +
              $"{innerUser}'s; both must be the same user ({setting}) — offer the balancer {innerUser}'s certificate, or log in as {vouched.User}"
            : $"this tunnel came through the balancer (front '{outer.Front}') with the client certificate of {vouched.User}, but the web session in this " +
              $"request is {innerUser}'s; both must be the same user ({setting}) — sign in as {vouched.User}, or offer the balancer {innerUser}'s certificate";
    }

    /// <summary>
    /// The one check: null when <paramref name="inner"/> may be carried by this tunnel, else the sentence — already
    /// logged (Warning) and audited as <c>tunnel.binding_refused</c> with both identities.
    /// </summary>
    public static async ValueTask<string?> EnforceAsync(AccessAudit audit, ILogger logger, OuterIdentity outer, Caller inner, string arrival,
        string connectionId, CancellationToken cancellationToken)
    {
        if (Refusal(outer, inner.User, inner.Source) is not { } refusal) return null;
        var outerUser = outer.Verdict.Identity?.User;
        ProxyLog.TunnelBindingRefused(logger, connectionId, outer.Front, outerUser ?? "(refused certificate)", inner.User, inner.Credential);
        var details = new Dictionary<string, string>
        {
            ["front"] = outer.Front,
            ["arrival"] = arrival,
            ["inner_user"] = inner.User,
            ["outer_user"] = outerUser ?? "",
        };
        if (outer.Verdict.Certificate is { } outerCertificate)
        {
            details["outer_subject"] = outerCertificate.Subject;
            details["outer_issuer"] = outerCertificate.Issuer;
            details["outer_serial"] = outerCertificate.Serial;
            details["outer_sha256"] = outerCertificate.Sha256;
        }
        await audit.TunnelBindingRefusedAsync(inner, refusal, details, cancellationToken);
        return refusal;
    }
}
