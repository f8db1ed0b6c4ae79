using System.Net;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;

namespace Gatehouse.Proxy.Routing;

/// <summary>
/// Outer/inner binding (ARCHITECTURE §4): a tunnel whose upgrade came through a front that forwarded a client
/// certificate (bind_tunnel_identity: required) may only carry connections of that same user — whether the inner
/// connection is for a gatehouse-* service or for the web side (apps, Kubernetes).
/// </summary>
internal static class TunnelBinding
{
    /// <summary>The refusal reason when an inner certificate is not the user the front vouched for.</summary>
    public const string Reason = "TunnelBindingRefused";

    /// <summary>Null when the inner identity is the user the front vouched for; else the sentence for the dial answer.
    /// Users are compared by name: for a company certificate that is the mapped user, so alice's company certificate
    /// outside and alice's Gatehouse certificate inside are one person.</summary>
    public static string? Refusal(OuterIdentity outer, Identity.Identity inner)
    {
        var setting = $"proxy.trusted_fronts '{outer.Front}' has bind_tunnel_identity: required";
        if (outer.Verdict is not { Status: ForwardedStatus.Authenticated, Identity: { } vouched })
            return $"the client certificate the balancer (front '{outer.Front}') forwarded for this tunnel was refused " +
                   $"({outer.Verdict.Reason}: {outer.Verdict.Message}), so it cannot vouch for your inner certificate of {inner.User}; " +
                   $"{setting}; offer the balancer a certificate of {inner.User}";
        if (string.Equals(vouched.User, inner.User, StringComparison.Ordinal)) return null;
        return $"this tunnel came through the balancer (front '{outer.Front}') with the client certificate of {vouched.User}, but its inner certificate is " +
               $"{inner.User}'s; both must be the same user ({setting}) — offer the balancer {inner.User}'s certificate, or log in as {vouched.User}";
    }

    public static ValueTask<Storage.AuditEvent> AuditRefusedAsync(ClusterState cluster, OuterIdentity outer, Identity.Identity inner,
        CertificateFacts? innerCertificate, IPAddress client, string arrival, string reason, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string>
        {
            ["front"] = outer.Front,
            ["arrival"] = arrival,
            ["inner_user"] = inner.User,
            ["outer_user"] = outer.Verdict.Identity?.User ?? "",
        };
        if (outer.Verdict.Certificate is { } outerCertificate)
        {
            details["outer_subject"] = outerCertificate.Subject;
            details["outer_issuer"] = outerCertificate.Issuer;
            details["outer_serial"] = outerCertificate.Serial;
            details["outer_sha256"] = outerCertificate.Sha256;
        }
        return cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.TunnelBindingRefused, inner.User) with
        {
            IdentitySource = "handshake",
            CertificateIssuer = innerCertificate?.Issuer,
            CertificateSerial = innerCertificate?.Serial,
            CertificateSha256 = innerCertificate?.Sha256,
            SourceIp = client.ToString(),
            Decision = "denied",
            Reason = reason,
            Details = details,
        }, cancellationToken);
    }
}
