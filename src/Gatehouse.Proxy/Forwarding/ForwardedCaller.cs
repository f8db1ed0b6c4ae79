using System.Net;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>
/// Who is behind a request that Gatehouse forwards (to an HTTP app or a Kubernetes API): the principal of the
/// ForwardedCertificate scheme — a handshake certificate or a trusted front's header — with its certificate and
/// address, or (HTTP apps only) a browser's web session; and the one way such decisions reach the audit trail.
/// </summary>
/// <param name="Certificate">The client certificate's facts; null for a web session.</param>
/// <param name="Session">The web session the identity came from; null for a certificate.</param>
internal sealed record ForwardedCaller(Identity.Identity Identity, CertificateFacts? Certificate, string? Front, IPAddress Client, WebSession? Session = null)
{
    /// <summary>The audit's identity_source: "handshake", "forwarded-header" or "web-session".</summary>
    public string IdentitySource => Session is not null ? WebSession.IdentitySource : Front is null ? "handshake" : "forwarded-header";

    /// <summary>When what vouches for the caller ends: the certificate's notAfter or the session's expiry.</summary>
    public DateTimeOffset NotAfter => Certificate?.NotAfter ?? Session!.ExpiresAt;

    /// <summary>
    /// Ends the request when what vouches for the caller expires: a watch, a log stream, an exec session or an app's
    /// WebSocket never outlives the certificate (or web session) it was allowed for. Dispose the result when the
    /// request is done.
    /// </summary>
    public IDisposable EndAtExpiry(HttpContext context, TimeProvider time, ILogger logger, string resource)
    {
        var left = NotAfter - time.GetUtcNow();
        return time.CreateTimer(_ =>
        {
            ProxyLog.EndedAtExpiry(logger, Identity.User, resource, Session is null ? "certificate" : "web session", NotAfter);
            context.Abort();
        }, null, left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the request carried a client certificate at all (accepted or refused): then it, not a session cookie,
    /// decides who the caller is. Only meaningful after <see cref="FromAsync"/> (which judges the certificate).</summary>
    public static bool PresentedCertificate(HttpContext context) =>
        context.Features.Get<RequestIdentityFeature>()?.Verdict is { Status: not ForwardedStatus.NoCertificate };

    /// <summary>A caller from a web session (the cookie has been opened and checked by <see cref="WebSessionCookie"/>).</summary>
    public static ForwardedCaller FromSession(HttpContext context, WebSession session) =>
        new(session.Identity, null, null, context.Features.Get<RequestIdentityFeature>()?.Client ?? context.Connection.RemoteIpAddress ?? IPAddress.None,
            session);

    /// <summary>The caller, or null with the sentence a 401 answers: why the certificate was refused, or
    /// <paramref name="noCertificateHint"/> when there was none. Runs the ForwardedCertificate scheme: identity is judged
    /// only for requests that need it (there is no default scheme), and at most once per request.</summary>
    public static async ValueTask<(ForwardedCaller? Caller, string Refusal)> FromAsync(HttpContext context, string noCertificateHint)
    {
        var result = await context.AuthenticateAsync(ClientCertificateAuthenticationHandler.SchemeName);
        var feature = context.Features.Get<RequestIdentityFeature>();
        var verdict = feature?.Verdict;
        if (result.Succeeded && verdict is { Status: ForwardedStatus.Authenticated, Identity: { } identity, Certificate: { } certificate })
        {
            context.User = result.Principal;
            return (new ForwardedCaller(identity, certificate, verdict.Front, feature!.Client), "");
        }
        return (null, verdict is { Status: ForwardedStatus.Refused } ? $"{verdict.Message} ({verdict.Reason})" : noCertificateHint);
    }

    /// <summary>Audits an access decision, at most once per window for the same user, resource and outcome (a page load
    /// or a kubectl command is many requests, not many decisions).</summary>
    public async ValueTask AuditDecisionAsync(ClusterState cluster, AuditThrottle throttle, string resource, bool allowed, string reason,
        Dictionary<string, string> details, CancellationToken cancellationToken)
    {
        if (!throttle.ShouldRecord($"{Identity.User}|{resource}|{allowed}", cluster.Time.GetUtcNow())) return;
        await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.AccessDecision, Identity.User) with
        {
            IdentitySource = IdentitySource,
            CertificateIssuer = Certificate?.Issuer,
            CertificateSerial = Certificate?.Serial,
            CertificateSha256 = Certificate?.Sha256,
            SourceIp = Client.ToString(),
            Resource = resource,
            Decision = allowed ? "allowed" : "denied",
            Reason = reason,
            Details = Session is null ? details : new Dictionary<string, string>(details) { ["session"] = Session.Id },
        }, cancellationToken);
    }
}
