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
        await log.RecordAsync(Of(AuditEventTypes.AccessDecision, caller) with
        {
            Resource = resource,
            Decision = outcome.Word(),
            Reason = reason,
            Details = all,
        }, cancellationToken);
    }

    /// <summary>An <c>access.decision</c> refusing a client certificate before there is a caller (a gatehouse-* dial with
    /// a certificate Gatehouse does not accept): no user, the certificate's facts and the refusal.</summary>
    public ValueTask<AuditEvent> CertificateRefusedAsync(ForwardedAuthentication verdict, IPAddress client, string resource,
        IReadOnlyDictionary<string, string> details, CancellationToken cancellationToken) =>
        log.RecordAsync(Of(AuditEventTypes.AccessDecision, null, AuditWords.CertificateSource(verdict.Front), verdict.Certificate, client) with
        {
            Resource = resource,
            Decision = AccessOutcome.Denied.Word(),
            Reason = $"{verdict.Reason}: {verdict.Message}",
            Details = details,
        }, cancellationToken);

    /// <summary>A session's start or end on a resource (<c>ssh.session.start</c>, <c>ssh.session.end</c>): who, from where,
    /// with which certificate; <paramref name="details"/> as they are now (copied).</summary>
    public ValueTask<AuditEvent> SessionAsync(string type, Caller caller, string resource, IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken) =>
        log.RecordAsync(Of(type, caller) with { Resource = resource, Details = new Dictionary<string, string>(details) }, cancellationToken);

    /// <summary><c>client_cert.accepted</c> or <c>client_cert.refused</c>: a certificate judged for an HTTP request.</summary>
    public ValueTask<AuditEvent> CertificateJudgedAsync(ForwardedAuthentication verdict, IPAddress client, CancellationToken cancellationToken)
    {
        var accepted = verdict.Status == ForwardedStatus.Authenticated;
        return log.RecordAsync(Of(accepted ? AuditEventTypes.ClientCertificateAccepted : AuditEventTypes.ClientCertificateRefused,
            verdict.Identity?.User, AuditWords.CertificateSource(verdict.Front), verdict.Certificate, client) with
        {
            Decision = AuditWords.Outcome(accepted).Word(),
            Reason = verdict.Reason is null ? verdict.Message : $"{verdict.Reason}: {verdict.Message}",
            Details = verdict.Front is null ? null : new Dictionary<string, string> { ["front"] = verdict.Front },
        }, cancellationToken);
    }

    /// <summary><c>forged_client_cert_header</c>: certificate headers removed from a request that could not send them.</summary>
    public ValueTask<AuditEvent> ForgedHeadersAsync(IPAddress client, string reason, IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken) =>
        log.RecordAsync(Of(AuditEventTypes.ForgedClientCertificateHeader, null, null, null, client) with
        {
            Decision = AccessOutcome.Denied.Word(),
            Reason = reason,
            Details = details,
        }, cancellationToken);

    /// <summary><c>tunnel.binding_refused</c>: an identity inside a tunnel that is not the user the front vouched for.</summary>
    public ValueTask<AuditEvent> TunnelBindingRefusedAsync(Caller inner, string refusal, IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken) =>
        log.RecordAsync(Of(AuditEventTypes.TunnelBindingRefused, inner) with
        {
            Decision = AccessOutcome.Denied.Word(),
            Reason = refusal,
            Details = details,
        }, cancellationToken);

    /// <summary><c>tunnel.nested_refused</c>: an upgrade to /v1/tunnel inside a tunnel.</summary>
    public ValueTask<AuditEvent> NestedTunnelRefusedAsync(string? outerUser, IPAddress client, string refusal,
        IReadOnlyDictionary<string, string> details, CancellationToken cancellationToken) =>
        log.RecordAsync(Of(AuditEventTypes.NestedTunnelRefused, outerUser, null, null, client) with
        {
            Decision = AccessOutcome.Denied.Word(),
            Reason = refusal,
            Details = details,
        }, cancellationToken);

    /// <summary><c>user.logout</c> of a browser's web session.</summary>
    public ValueTask<AuditEvent> SignedOutAsync(string user, string sessionId, IPAddress client, CancellationToken cancellationToken) =>
        log.RecordAsync(Of(AuditEventTypes.Logout, user, IdentitySource.WebSession, null, client) with
        {
            Details = new Dictionary<string, string> { ["session"] = sessionId },
        }, cancellationToken);

    /// <summary>A session's event as <see cref="SessionAsync"/> records it, for a writer that records it later (a
    /// statement of a database session, written in the background).</summary>
    /// <remarks>Made in one piece (one record, not a copy per <c>with</c>): a busy database session makes one per statement.</remarks>
    public static AuditEvent SessionEvent(string type, Caller caller, string resource, IReadOnlyDictionary<string, string> details,
        DateTimeOffset time = default) =>
        new(0, time, type, caller.User, caller.Source.Word(), caller.Certificate?.Issuer, caller.Certificate?.Serial,
            caller.Certificate?.Sha256, caller.Client.ToString(), resource, null, null, details);

    private static AuditEvent Of(string type, Caller caller) => Of(type, caller.User, caller.Source, caller.Certificate, caller.Client);

    /// <summary>An event of <paramref name="type"/> with who, how they proved it, their certificate and address.</summary>
    private static AuditEvent Of(string type, string? user, IdentitySource? source, CertificateFacts? certificate, IPAddress client) =>
        AuditLog.Event(type, user) with
        {
            IdentitySource = source?.Word(),
            CertificateIssuer = certificate?.Issuer,
            CertificateSerial = certificate?.Serial,
            CertificateSha256 = certificate?.Sha256,
            SourceIp = client.ToString(),
        };
}
