namespace Gatehouse.Storage;

/// <summary>One audited event. <see cref="Id"/> is 0 until the store has committed it.</summary>
/// <param name="Type">e.g. "user.login", "cert.issue", "cert.revoke", "access.decision".</param>
/// <param name="IdentitySource">"handshake", "forwarded-header", "login", "web-session", "admin".</param>
/// <param name="Decision">"allowed", "denied", or null when the event is not a decision.</param>
internal sealed record AuditEvent(
    long Id,
    DateTimeOffset Time,
    string Type,
    string? User,
    string? IdentitySource,
    string? CertificateIssuer,
    string? CertificateSerial,
    string? CertificateSha256,
    string? SourceIp,
    string? Resource,
    string? Decision,
    string? Reason,
    IReadOnlyDictionary<string, string>? Details);

internal sealed record AuditQuery(DateTimeOffset? Since = null, string? Type = null, string? User = null, int Limit = 1000);

internal interface IAuditStore
{
    /// <summary>Appends and commits the event; returns its id. When this returns, the event survives a kill -9.</summary>
    ValueTask<long> AppendAuditAsync(AuditEvent auditEvent, CancellationToken cancellationToken);

    /// <summary>Appends and commits the events together (one commit for all, in this order); returns their ids. When this
    /// returns, every one survives a kill -9; none is written unless all are.</summary>
    async ValueTask<IReadOnlyList<long>> AppendAuditBatchAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
    {
        var ids = new List<long>(auditEvents.Count);
        foreach (var auditEvent in auditEvents) ids.Add(await AppendAuditAsync(auditEvent, cancellationToken));
        return ids;
    }

    /// <summary>Newest first.</summary>
    ValueTask<IReadOnlyList<AuditEvent>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken);
}
