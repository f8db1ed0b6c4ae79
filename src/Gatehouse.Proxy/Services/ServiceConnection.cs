using System.Net.Security;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Audit;
using Gatehouse.ForwardedCerts;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services;

/// <summary>
/// A gatehouse-* connection as the service router hands it to a protocol handler: the TLS stream (dial frame read, not
/// yet answered), whether the client asked for ping framing, what it dialled, who it is and how it arrived.
/// </summary>
internal sealed class ServiceConnection(SslStream tls, bool ping, DialRequest request, Identity.Identity identity, CertificateFacts? certificate,
    ConnectionFacts facts, AuditLog audit)
{
    public SslStream Tls { get; } = tls;

    /// <summary>The client offered the protocol with <c>-ping</c>: after the answer, wrap <see cref="Tls"/> in a
    /// <see cref="PingFramedStream"/>.</summary>
    public bool Ping { get; } = ping;

    public DialRequest Request { get; } = request;
    public Identity.Identity Identity { get; } = identity;
    public CertificateFacts? Certificate { get; } = certificate;
    public ConnectionFacts Facts { get; } = facts;

    /// <summary>Answers the dial: ok (bytes flow next) or a refusal the client prints.</summary>
    public Task AnswerAsync(DialAnswer answer, CancellationToken cancellationToken) => AnswerAsync(Tls, answer, cancellationToken);

    /// <summary>Audits an access decision on <paramref name="resource"/> for this connection's user.</summary>
    public ValueTask<Storage.AuditEvent> AuditDecisionAsync(string resource, bool allowed, string reason, CancellationToken cancellationToken) =>
        AuditDecisionAsync(audit, Identity.User, resource, Facts, allowed, reason, Certificate, cancellationToken);

    /// <summary>Writes one dial answer; a client that already left is nothing to report.</summary>
    public static async Task AnswerAsync(Stream stream, DialAnswer answer, CancellationToken cancellationToken)
    {
        try
        {
            await DialFrames.WriteAsync(stream, answer, cancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client left; nothing to tell.
        }
    }

    /// <summary>The access-decision audit event of a gatehouse-* connection (the user is null when the certificate itself
    /// was refused).</summary>
    public static ValueTask<Storage.AuditEvent> AuditDecisionAsync(AuditLog audit, string? user, string resource, ConnectionFacts facts, bool allowed,
        string reason, CertificateFacts? certificate, CancellationToken cancellationToken) =>
        audit.RecordAsync(AuditLog.Event(AuditEventTypes.AccessDecision, user) with
        {
            IdentitySource = "handshake",
            CertificateIssuer = certificate?.Issuer,
            CertificateSerial = certificate?.Serial,
            CertificateSha256 = certificate?.Sha256,
            SourceIp = facts.Client.ToString(),
            Resource = resource,
            Decision = allowed ? "allowed" : "denied",
            Reason = reason,
            Details = new Dictionary<string, string> { ["arrival"] = facts.Arrival },
        }, cancellationToken);
}
