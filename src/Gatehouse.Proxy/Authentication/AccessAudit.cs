using System.Net;
using Gatehouse.Audit;
using Gatehouse.ForwardedCerts;
using Gatehouse.Storage;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// The proxy's one writer of audit events about identity and access: decisions on resources (HTTP apps, Kubernetes,
/// gatehouse-* services), sessions on them, judged client certificates, forged certificate headers, tunnel refusals
/// and web sign-outs.
/// Sources and outcomes arrive typed (<see cref="IdentitySource"/>, <see cref="AccessOutcome"/>) and are spelled in the
/// trail's words only here (<see cref="AuditWords"/>).
/// </summary>
internal sealed class AccessAudit(AuditLog log, TimeProvider time)
{
    /// <summary>
    /// An <c>access.decision</c> about <paramref name="caller"/> on <paramref name="resource"/>. With a throttle, at most
    /// one per window for the same user, resource and outcome: a page load or a kubectl command is many requests, not
    /// many decisions. A web session's decisions name the session.
    /// </summary>
    public async ValueTask DecisionAsync(Caller caller, string resource, AccessOutcome outcome, string reason,
        IReadOnlyDictionary<string, string> details, CancellationToken cancellationToken, AuditThrottle? throttle = null)
    {
        if (throttle?.ShouldRecord($"{caller.User}|{resource}|{outcome}", time.GetUtcNow()) == false) return;
        var all = new Dictionary<string, string>(details);
        if (caller.SessionId is { } session) all["session"] = session;
        await log.RecordAsync(Decision(caller.User, caller.Source, caller.Certificate, caller.Client, resource, outcome, reason, all),
            cancellationToken);
    }

    /// <summary>An <c>access.decision</c> refusing a client certificate before there is a caller (a gatehouse-* dial with
    /// a certificate Gatehouse does not accept): no user, the certificate's facts and the refusal.</summary>
    public ValueTask<AuditEvent> CertificateRefusedAsync(ForwardedAuthentication verdict, IPAddress client, string resource,
        IReadOnlyDictionary<string, string> details, CancellationToken cancellationToken) =>
        log.RecordAsync(Decision(null, AuditWords.CertificateSource(verdict.Front), verdict.Certificate, client, resource, AccessOutcome.Denied,
            $"{verdict.Reason}: {verdict.Message}", details), cancellationToken);

    /// <summary>A session's start or end on a resource (<c>ssh.session.start</c>, <c>ssh.session.end</c>): who, from where,
    /// with which certificate; <paramref name="details"/> as they are now (copied).</summary>
    public ValueTask<AuditEvent> SessionAsync(string type, Caller caller, string resource, IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken) =>
        log.RecordAsync(AuditLog.Event(type, caller.User) with
        {
            IdentitySource = caller.Source.Word(),
            CertificateIssuer = caller.Certificate?.Issuer,
            CertificateSerial = caller.Certificate?.Serial,
            CertificateSha256 = caller.Certificate?.Sha256,
            SourceIp = caller.Client.ToString(),
            Resource = resource,
            Details = new Dictionary<string, string>(details),
        }, cancellationToken);

    /// <summary><c>client_cert.accepted</c> or <c>client_cert.refused</c>: a certificate judged for an HTTP request.</summary>
    public ValueTask<AuditEvent> CertificateJudgedAsync(ForwardedAuthentication verdict, IPAddress client, CancellationToken cancellationToken)
    {
        var accepted = verdict.Status == ForwardedStatus.Authenticated;
        return log.RecordAsync(AuditLog.Event(accepted ? AuditEventTypes.ClientCertificateAccepted : AuditEventTypes.ClientCertificateRefused,
            verdict.Identity?.User) with
        {
            IdentitySource = AuditWords.CertificateSource(verdict.Front).Word(),
            CertificateIssuer = verdict.Certificate?.Issuer,
            CertificateSerial = verdict.Certificate?.Serial,
            CertificateSha256 = verdict.Certificate?.Sha256,
            SourceIp = client.ToString(),
            Decision = AuditWords.Outcome(accepted).Word(),
            Reason = verdict.Reason is null ? verdict.Message : $"{verdict.Reason}: {verdict.Message}",
            Details = verdict.Front is null ? null : new Dictionary<string, string> { ["front"] = verdict.Front },
        }, cancellationToken);
    }

    /// <summary><c>forged_client_cert_header</c>: certificate headers removed from a request that could not send them.</summary>
    public ValueTask<AuditEvent> ForgedHeadersAsync(IPAddress client, string reason, IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken) =>
        log.RecordAsync(AuditLog.Event(AuditEventTypes.ForgedClientCertificateHeader) with
        {
            SourceIp = client.ToString(),
            Decision = AccessOutcome.Denied.Word(),
            Reason = reason,
            Details = details,
        }, cancellationToken);

    /// <summary><c>tunnel.binding_refused</c>: an identity inside a tunnel that is not the user the front vouched for.</summary>
    public ValueTask<AuditEvent> TunnelBindingRefusedAsync(Caller inner, string refusal, IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken) =>
        log.RecordAsync(AuditLog.Event(AuditEventTypes.TunnelBindingRefused, inner.User) with
        {
            IdentitySource = inner.Source.Word(),
            CertificateIssuer = inner.Certificate?.Issuer,
            CertificateSerial = inner.Certificate?.Serial,
            CertificateSha256 = inner.Certificate?.Sha256,
            SourceIp = inner.Client.ToString(),
            Decision = AccessOutcome.Denied.Word(),
            Reason = refusal,
            Details = details,
        }, cancellationToken);

    /// <summary><c>tunnel.nested_refused</c>: an upgrade to /v1/tunnel inside a tunnel.</summary>
    public ValueTask<AuditEvent> NestedTunnelRefusedAsync(string? outerUser, IPAddress client, string refusal,
        IReadOnlyDictionary<string, string> details, CancellationToken cancellationToken) =>
        log.RecordAsync(AuditLog.Event(AuditEventTypes.NestedTunnelRefused, outerUser) with
        {
            SourceIp = client.ToString(),
            Decision = AccessOutcome.Denied.Word(),
            Reason = refusal,
            Details = details,
        }, cancellationToken);

    /// <summary><c>user.logout</c> of a browser's web session.</summary>
    public ValueTask<AuditEvent> SignedOutAsync(string user, string sessionId, IPAddress client, CancellationToken cancellationToken) =>
        log.RecordAsync(AuditLog.Event(AuditEventTypes.Logout, user) with
        {
            IdentitySource = IdentitySource.WebSession.Word(),
            SourceIp = client.ToString(),
            Details = new Dictionary<string, string> { ["session"] = sessionId },
        }, cancellationToken);

    private static AuditEvent Decision(string? user, IdentitySource source, CertificateFacts? certificate, IPAddress client, string resource,
        AccessOutcome outcome, string reason, IReadOnlyDictionary<string, string> details) =>
        AuditLog.Event(AuditEventTypes.AccessDecision, user) with
        {
            IdentitySource = source.Word(),
            CertificateIssuer = certificate?.Issuer,
            CertificateSerial = certificate?.Serial,
            CertificateSha256 = certificate?.Sha256,
            SourceIp = client.ToString(),
            Resource = resource,
            Decision = outcome.Word(),
            Reason = reason,
            Details = details,
        };
}
