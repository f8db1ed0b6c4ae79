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

    /// <summary>The most events one group commit writes; the rest wait for the next transaction.</summary>
    private const int MaxGroup = 256;

    private readonly SemaphoreSlim _fileLock = new(1, 1);
    private readonly Lock _gate = new();
    private List<(AuditEvent Event, TaskCompletionSource<long> Committed)>? _pending;
    private bool _writing;

    public TimeProvider Time => time;

    /// <summary>Records one event; returns once it is committed (with its id). Events recorded at the same time share one
    /// commit (group commit): while one transaction is being written, the events that arrive queue for the next, so a
    /// burst of new connections pays one fsync per batch instead of one each, and every caller still waits for its own
    /// event to be durable (docs/benchmarks.md, "P2 profile").</summary>
    public async ValueTask<AuditEvent> RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        if (auditEvent.Time == default) auditEvent = auditEvent with { Time = time.GetUtcNow() };
        var committed = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool lead;
        lock (_gate)
        {
            (_pending ??= []).Add((auditEvent, committed));
            lead = !_writing;
            _writing = true;
        }
        if (lead) _ = Task.Run(WriteQueuedAsync, CancellationToken.None);
        return auditEvent with { Id = await committed.Task.WaitAsync(cancellationToken) };
    }

    /// <summary>Writes what has queued, one transaction per batch, until nothing is left; then the next caller leads.</summary>
    private async Task WriteQueuedAsync()
    {
        while (true)
        {
            List<(AuditEvent Event, TaskCompletionSource<long> Committed)> batch;
            lock (_gate)
            {
                if (_pending is not { Count: > 0 } pending)
                {
                    _writing = false;
                    return;
                }
                if (pending.Count <= MaxGroup)
                {
                    batch = pending;
                    _pending = null;
                }
                else
                {
                    batch = pending[..MaxGroup];
                    pending.RemoveRange(0, MaxGroup);
                }
            }
            try
            {
                var events = batch.ConvertAll(p => p.Event);
                var ids = batch.Count == 1 ? [await store.AppendAuditAsync(events[0], CancellationToken.None)]
                    : await store.AppendAuditBatchAsync(events, CancellationToken.None);
                if (jsonLinesFile is not null) await AppendToFileAsync([.. events.Select((e, i) => e with { Id = ids[i] })], CancellationToken.None);
                for (var i = 0; i < batch.Count; i++) batch[i].Committed.TrySetResult(ids[i]);
            }
            catch (Exception e)
            {
                // Nothing of the batch is acknowledged: each caller fails as a lone write would have.
                foreach (var (_, committed) in batch) committed.TrySetException(e);
            }
        }
    }

    /// <summary>Records the events together: one commit in the store, then one flush of the file. For a writer of many
    /// events (a database session's statements); each is as durable as one from <see cref="RecordAsync"/> once this returns.</summary>
    public async ValueTask RecordBatchAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
    {
        if (auditEvents.Count == 0) return;
        // Events queued by a writer carry their time already: copied only when one lacks it, and again with their ids
        // only for the file (a copy of every event per batch was a fifth of the batch's allocations).
        var timed = auditEvents;
        foreach (var auditEvent in auditEvents)
        {
            if (auditEvent.Time != default) continue;
            var now = time.GetUtcNow();
            timed = [.. auditEvents.Select(e => e.Time == default ? e with { Time = now } : e)];
            break;
        }
        var ids = await store.AppendAuditBatchAsync(timed, cancellationToken);
        if (jsonLinesFile is not null) await AppendToFileAsync([.. timed.Select((e, i) => e with { Id = ids[i] })], cancellationToken);
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
