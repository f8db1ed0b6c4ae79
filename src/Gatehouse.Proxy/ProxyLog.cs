namespace Gatehouse.Proxy;

/// <summary>Every log event of the proxy, with ids from one registry (1000s: authentication and routing, 1300s: forwarded
/// requests — HTTP apps and Kubernetes — and what their responses may carry, 1500s: web sessions, 1600s: SSH nodes,
/// 2000s: hosting).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(1001, LogLevel.Warning, "Removed client-certificate headers ({Headers}) from {Peer}: it is not a trusted front; the request goes on unauthenticated")]
    public static partial void ForgedCertificateHeaders(ILogger logger, string peer, string headers);

    [LoggerMessage(1002, LogLevel.Warning, "Removed client-certificate headers ({Headers}) that front {Front} does not send; only {Format} headers are honoured from it")]
    public static partial void ForeignCertificateHeaders(ILogger logger, string front, string format, string headers);

    [LoggerMessage(1003, LogLevel.Information, "Client certificate {Subject} (serial {Serial}) via {Source} accepted as {User}")]
    public static partial void CertificateAccepted(ILogger logger, string subject, string serial, string source, string user);

    [LoggerMessage(1004, LogLevel.Warning, "Client certificate via {Source} refused ({Reason}): {Message}")]
    public static partial void CertificateRefused(ILogger logger, string source, string? reason, string message);

    [LoggerMessage(1008, LogLevel.Warning, "Client certificate {Subject} (serial {Serial}) accepted despite its revocation status: {Warning}")]
    public static partial void CertificateAcceptedWithWarning(ILogger logger, string subject, string serial, string warning);

    [LoggerMessage(1005, LogLevel.Debug, "Ignored X-Forwarded-For from untrusted peer {Peer}")]
    public static partial void IgnoredForwardedFor(ILogger logger, string peer);

    [LoggerMessage(1006, LogLevel.Debug, "Removed client-certificate headers ({Headers}) from {Peer} (front: {Front}); not audited again: this source was audited in this window, or the audit cap is reached")]
    public static partial void CertificateHeadersRemovedAgain(ILogger logger, string peer, string front, string headers);

    [LoggerMessage(1007, LogLevel.Warning, "Removed client-certificate headers from more sources than the audit takes ({Limit} events per {Seconds} s): further ones are counted, and the next event recorded says how many")]
    public static partial void ForgeryAuditCapReached(ILogger logger, int limit, double seconds);

    [LoggerMessage(2002, LogLevel.Warning, "Health check failed: {Store}: {Error}")]
    public static partial void HealthCheckFailed(ILogger logger, string store, string error);

    [LoggerMessage(2001, LogLevel.Warning, "Could not refresh revocations from {Store}: {Error}; keeping the previous view")]
    public static partial void TrustRefreshFailed(ILogger logger, string store, string error);

    [LoggerMessage(2003, LogLevel.Error, "Revocation source failing: {Problem}")]
    public static partial void RevocationSourceFailing(ILogger logger, string problem);

    [LoggerMessage(2004, LogLevel.Information, "Revocation source recovered: {Source} (CRL thisUpdate {ThisUpdate:u}, nextUpdate {NextUpdate:u})")]
    public static partial void RevocationSourceRecovered(ILogger logger, string source, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate);

    [LoggerMessage(1301, LogLevel.Warning, "{User} denied {Kind} {Name}: {Reason}")]
    public static partial void ForwardingDenied(ILogger logger, string user, string kind, string name, string reason);

    [LoggerMessage(1601, LogLevel.Warning, "{User} denied login {Login} on node {Node}: {Reason}")]
    public static partial void NodeAccessDenied(ILogger logger, string user, string login, string node, string reason);

    [LoggerMessage(1701, LogLevel.Warning, "{User} denied db user {DbUser} on database {Database} ({DbName}): {Reason}")]
    public static partial void DatabaseAccessDenied(ILogger logger, string user, string dbUser, string database, string dbName, string reason);

    [LoggerMessage(1702, LogLevel.Warning, "{User}'s session on database {Database} as {DbUser} could not start: {Failure}")]
    public static partial void DatabaseSessionFailed(ILogger logger, string user, string database, string dbUser, string failure);

    [LoggerMessage(1703, LogLevel.Error, "{Count} db.query event(s) could not be written: {Error}")]
    public static partial void QueryAuditFailed(ILogger logger, int count, string error);

    [LoggerMessage(1704, LogLevel.Warning, "Connection {ConnectionId} from {Peer}: a PostgreSQL client was refused before its session: {Reason}")]
    public static partial void PostgresRefused(ILogger logger, string connectionId, string peer, string reason);

    [LoggerMessage(1705, LogLevel.Warning, "Connection {ConnectionId} from {Peer}: a MySQL client was refused: {Reason}")]
    public static partial void MySqlRefused(ILogger logger, string connectionId, string peer, string reason);

    [LoggerMessage(1302, LogLevel.Warning, "Forwarding to {Kind} {Name} failed ({Error}): {Message}")]
    public static partial void ForwardingFailed(ILogger logger, string kind, string name, string error, string message);

    [LoggerMessage(1303, LogLevel.Warning, "{Resource} answered with Set-Cookie for the proxy's own cookie {Cookie}: dropped. Tell its owner: whatever sets the proxy's cookies could fix a session for every app on this origin (logged once per resource, then at Debug)")]
    public static partial void ProxyCookieFromUpstream(ILogger logger, string resource, string cookie);

    [LoggerMessage(1304, LogLevel.Debug, "{Resource} answered with Set-Cookie for the proxy's own cookie {Cookie}: dropped again")]
    public static partial void ProxyCookieFromUpstreamAgain(ILogger logger, string resource, string cookie);

    [LoggerMessage(1201, LogLevel.Debug, "Connection {ConnectionId} from {Peer} closed before TLS: {Detail}")]
    public static partial void ConnectionClosedBeforeTls(ILogger logger, string connectionId, string peer, string detail);

    [LoggerMessage(1101, LogLevel.Debug, "Connection {ConnectionId} from {Client}: TLS handshake failed: {Error}")]
    public static partial void HandshakeFailed(ILogger logger, string connectionId, string client, string error);

    [LoggerMessage(1103, LogLevel.Warning, "Connection {ConnectionId}: refused inside a tunnel, front {Front} forwarded the certificate of {OuterUser} but the inner {Credential} is {InnerUser}'s")]
    public static partial void TunnelBindingRefused(ILogger logger, string connectionId, string front, string outerUser, string innerUser, string credential);

    [LoggerMessage(1105, LogLevel.Warning, "Tunnel {ConnectionId} from {Client} was cut with no WebSocket close after {IdleSeconds:0.#} s idle, before the next ping was due (proxy.ping_interval: {PingSeconds:0.#} s): a balancer in front most likely closes idle connections sooner. Lower proxy.ping_interval below the balancer's idle timeout, or raise that timeout (nginx proxy_read_timeout, HAProxy timeout tunnel, ALB idle_timeout.timeout_seconds)")]
    public static partial void TunnelCutWhileIdle(ILogger logger, string connectionId, string client, double idleSeconds, double pingSeconds);

    [LoggerMessage(1104, LogLevel.Warning, "Connection {ConnectionId} from {Client}: refused an upgrade to /v1/tunnel inside a tunnel ({Arrival})")]
    public static partial void NestedTunnelRefused(ILogger logger, string connectionId, string client, string arrival);

    [LoggerMessage(1102, LogLevel.Information, "Connection {ConnectionId}: {User} to {Resource} ended after {In} bytes in, {Out} bytes out ({How})")]
    public static partial void SessionEnded(ILogger logger, string connectionId, string user, string resource, long @in, long @out, string how);

    [LoggerMessage(1202, LogLevel.Debug, "Connection {ConnectionId} from {Peer} to the plain-HTTP listener closed: not in a trusted front's source_cidrs nor proxy.trusted_proxies")]
    public static partial void UntrustedPeerClosed(ILogger logger, string connectionId, string peer);

    [LoggerMessage(1501, LogLevel.Information, "{User} signed in to web session {SessionId} from {Client}, until {Expires}")]
    public static partial void WebSignedIn(ILogger logger, string user, string sessionId, string client, string expires);

    // No user name: a password typed into the user field must not end up in a log (the audit keeps the name).
    [LoggerMessage(1502, LogLevel.Information, "Web sign-in from {Client} refused: {Failure}")]
    public static partial void WebSignInRefused(ILogger logger, string client, string failure);

    [LoggerMessage(1503, LogLevel.Debug, "Ignored the web session cookie from {Client}: {Problem}")]
    public static partial void WebSessionIgnored(ILogger logger, string client, string problem);

    [LoggerMessage(1504, LogLevel.Warning, "Refused a cross-site POST to {Path}: Origin {Origin} is not https://{Host}")]
    public static partial void CrossSiteFormRefused(ILogger logger, string path, string origin, string host);

    [LoggerMessage(1505, LogLevel.Information, "{User} signed out of web session {SessionId}")]
    public static partial void WebSignedOut(ILogger logger, string user, string sessionId);

    [LoggerMessage(1506, LogLevel.Warning, "Web session for {User} not issued: its cookie would be {Length} characters, more than browsers keep")]
    public static partial void WebSessionTooLarge(ILogger logger, string user, int length);

    [LoggerMessage(1305, LogLevel.Information, "Ended {User}'s open request to {Resource}: the {Source} it was allowed for expired at {NotAfter}")]
    public static partial void EndedAtExpiry(ILogger logger, string user, string resource, string source, DateTimeOffset notAfter);
}
