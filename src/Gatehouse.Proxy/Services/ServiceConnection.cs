using System.Net.Security;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services;

/// <summary>
/// A gatehouse-* connection as the service router hands it to a protocol handler: the TLS stream (dial frame read, not
/// yet answered), whether the client asked for ping framing, what it dialled, who is calling and how it arrived.
/// A native client (<see cref="INativeProtocol"/>) dialled nothing: its request is made from the TLS server name, and
/// its answers are the protocol's own.
/// </summary>
internal sealed class ServiceConnection(SslStream tls, bool ping, DialRequest request, Caller caller, ConnectionFacts facts, AccessAudit audit,
    INativeProtocol? native = null)
{
    /// <summary>The client speaks its protocol straight to the one port: there is no dial answer to send.</summary>
    public bool Native => native is not null;

    public SslStream Tls { get; } = tls;

    /// <summary>The client offered the protocol with <c>-ping</c>: after the answer, wrap <see cref="Tls"/> in a
    /// <see cref="PingFramedStream"/>.</summary>
    public bool Ping { get; } = ping;

    public DialRequest Request { get; } = request;

    /// <summary>Who dialled: the identity of the handshake certificate, its facts and the client's address.</summary>
    public Caller Caller { get; } = caller;

    public ConnectionFacts Facts { get; } = facts;

    /// <summary>Answers the dial: ok (bytes flow next) or a refusal the client prints. For a native client, ok says
    /// nothing and a refusal is told in its protocol's words.</summary>
    public Task AnswerAsync(DialAnswer answer, CancellationToken cancellationToken) =>
        native is null ? AnswerAsync(Tls, answer, cancellationToken)
        : answer.Ok ? Task.CompletedTask
        : native.RefuseNativelyAsync(Tls, answer, cancellationToken);

    /// <summary>Audits an access decision on <paramref name="resource"/> for this connection's caller, with how it arrived.</summary>
    public ValueTask AuditDecisionAsync(string resource, AccessOutcome outcome, string reason, CancellationToken cancellationToken) =>
        audit.DecisionAsync(Caller, resource, outcome, reason, ArrivalDetails(Facts), cancellationToken);

    /// <summary>
    /// Carries out an access decision on <paramref name="resource"/>: audits it (but for an allowed probe, which connects
    /// nothing and so is no access to record), refuses a denied dial with <paramref name="reason"/>, and answers an allowed
    /// probe. True when the dial is allowed and is no probe: the handler connects next.
    /// </summary>
    public async Task<bool> SettleDecisionAsync(string resource, bool allowed, string reason, CancellationToken cancellationToken)
    {
        var probe = Request.Probe == true;
        if (!(allowed && probe))
            await AuditDecisionAsync(resource, AuditWords.Outcome(allowed), reason, cancellationToken);
        if (!allowed)
        {
            await AnswerAsync(DialAnswer.Refuse(DialCodes.Denied, reason), cancellationToken);
            return false;
        }
        if (probe)
        {
            await AnswerAsync(DialAnswer.Accepted, cancellationToken);
            return false;
        }
        return true;
    }

    /// <summary>Audits the start or end of this connection's session on <paramref name="resource"/> (e.g. <c>ssh.session.start</c>).</summary>
    public ValueTask<Storage.AuditEvent> AuditSessionAsync(string type, string resource, IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken) =>
        audit.SessionAsync(type, Caller, resource, details, cancellationToken);

    /// <summary>The details every access decision on a gatehouse-* connection carries.</summary>
    public static Dictionary<string, string> ArrivalDetails(ConnectionFacts facts) => new() { ["arrival"] = facts.Arrival };

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
}
