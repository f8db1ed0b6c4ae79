using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Logging;

/// <summary>Every log event of the edge, one id registry (7000–7099). Client-caused failures at Debug, refusals at
/// Warning with the reason; never a key, never a whole certificate.</summary>
internal static partial class EdgeLog
{
    [LoggerMessage(7001, LogLevel.Information, "Listener {Listener}: mutual TLS {Mode}")]
    public static partial void ListenerStarted(ILogger logger, string listener, string mode);

    [LoggerMessage(7002, LogLevel.Warning, "Listener {Listener}: refused the client certificate of {Client}: {Status}: {Reason}")]
    public static partial void CertificateRefused(ILogger logger, string listener, string client, string status, string reason);

    [LoggerMessage(7003, LogLevel.Warning, "Listener {Listener}: removed {Count} mutual-TLS header(s) sent by the client {Client} (a client cannot speak for the edge)")]
    public static partial void ForgedHeadersRemoved(ILogger logger, string listener, int count, string client);

    [LoggerMessage(7004, LogLevel.Warning, "Target group {Group}: target {Target} is {State} (health check {Path} {Outcome})")]
    public static partial void TargetHealthChanged(ILogger logger, string group, string target, string state, string path, string outcome);

    [LoggerMessage(7005, LogLevel.Debug, "Listener {Listener}: TLS handshake with {Client} failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string listener, string client, string reason);

    [LoggerMessage(7006, LogLevel.Information, "Request to target group {Group} ({Target}) failed: {Error}")]
    public static partial void ForwardFailed(ILogger logger, string group, string target, string error);

    [LoggerMessage(7007, LogLevel.Warning, "Could not write a log line to {Destination}: {Reason}")]
    public static partial void LogWriteFailed(ILogger logger, string destination, string reason);
}
