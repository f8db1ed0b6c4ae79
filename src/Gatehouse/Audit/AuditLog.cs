using System.Text.Encodings.Web;
using System.Text.Json;
using Gatehouse.Storage;

namespace Gatehouse.Audit;

/// <summary>
/// Where audited events go: the store always, and a JSON-lines file when configured. <see cref="RecordAsync"/>
/// returns only once the event is committed (and, with a file, flushed to it), so an acknowledged action is never
/// missing from the trail after the process is killed.
/// </summary>
internal sealed class AuditLog(IAuditStore store, TimeProvider time, string? jsonLinesFile = null) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly SemaphoreSlim _fileLock = new(1, 1);

    public TimeProvider Time => time;

    public async ValueTask<AuditEvent> RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        if (auditEvent.Time == default) auditEvent = auditEvent with { Time = time.GetUtcNow() };
        auditEvent = auditEvent with { Id = await store.AppendAuditAsync(auditEvent, cancellationToken) };
        await AppendToFileAsync([auditEvent], cancellationToken);
        return auditEvent;
    }

    /// <summary>Records the events together: one commit in the store, then one flush of the file. For a writer of many
    /// events (a database session's statements); each is as durable as one from <see cref="RecordAsync"/> once this returns.</summary>
    public async ValueTask RecordBatchAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
    {
        if (auditEvents.Count == 0) return;
        var now = time.GetUtcNow();
        var timed = auditEvents.Select(e => e.Time == default ? e with { Time = now } : e).ToList();
        var ids = await store.AppendAuditBatchAsync(timed, cancellationToken);
        await AppendToFileAsync([.. timed.Select((e, i) => e with { Id = ids[i] })], cancellationToken);
    }

    private async ValueTask AppendToFileAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
    {
        if (jsonLinesFile is null) return;
        await _fileLock.WaitAsync(cancellationToken);
        try
        {
            await using var stream = new FileStream(jsonLinesFile, new FileStreamOptions
            {
                Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, UnixCreateMode = AtomicFile.OwnerOnly,
            });
            foreach (var auditEvent in auditEvents)
            {
                await stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(auditEvent, Json), cancellationToken);
                stream.WriteByte((byte)'\n');
            }
            await stream.FlushAsync(cancellationToken);
        }
        finally
        {
            _fileLock.Release();
        }
    }

    /// <summary>An event with only the common fields set; use <c>with</c> for the rest.</summary>
    public static AuditEvent Event(string type, string? user = null) =>
        new(0, default, type, user, null, null, null, null, null, null, null, null, null);

    public void Dispose() => _fileLock.Dispose();
}

/// <summary>Event type names, in one place.</summary>
internal static class AuditEventTypes
{
    public const string Login = "user.login";
    public const string LoginFailed = "user.login.failed";
    public const string Logout = "user.logout";
    public const string CertificateIssued = "cert.issue";
    public const string CertificateRevoked = "cert.revoke";
    /// <summary>An operator issued a certificate for longer than pki.max_user_cert_ttl (`admin certs issue --allow-ttl-above-max`).</summary>
    public const string CertificateTtlAboveMax = "cert.ttl_above_max";
    public const string UserAdded = "user.add";
    public const string UserRemoved = "user.remove";
    public const string UserChanged = "user.change";
    public const string RolesApplied = "role.apply";
    public const string RoleRemoved = "role.remove";
    public const string ForgedClientCertificateHeader = "forged_client_cert_header";
    public const string ClientCertificateAccepted = "client_cert.accepted";
    public const string ClientCertificateRefused = "client_cert.refused";
    public const string AccessDecision = "access.decision";
    public const string TunnelBindingRefused = "tunnel.binding_refused";
    public const string NestedTunnelRefused = "tunnel.nested_refused";
    public const string SshSessionStart = "ssh.session.start";
    public const string SshSessionEnd = "ssh.session.end";
    public const string DbSessionStart = "db.session.start";
    public const string DbSessionEnd = "db.session.end";
    public const string DbQuery = "db.query";
}
