using System.Threading.Channels;
using Gatehouse.Access;
using Gatehouse.Audit;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Gatehouse.Storage;

namespace Gatehouse.Proxy.Services.Databases;

/// <summary>
/// Writes <c>db.query</c> events behind the sessions that produce them, so a busy session is not slowed per statement:
/// statements are queued as they pass and written by one background writer in order, all that queued up since the
/// last commit in one transaction. The queue is bounded; a session
/// whose statements cannot be queued ends (<see cref="TryEnqueue"/> is false) rather than run unaudited. Stopping the
/// proxy writes what is queued before it returns.
/// </summary>
internal sealed class QueryAuditWriter : IAsyncDisposable
{
    public const int Capacity = 50_000;
    private const int MaxBatch = 1000;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _stopping = new();

    private readonly Channel<AuditEvent> _queue = Channel.CreateBounded<AuditEvent>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly AuditLog _log;
    private readonly ILogger<QueryAuditWriter> _logger;
    private readonly Task _writing;

    public QueryAuditWriter(AuditLog log, ILogger<QueryAuditWriter> logger)
    {
        _log = log;
        _logger = logger;
        _writing = Task.Run(WriteAsync);
    }

    /// <summary>Queues one event (its time set now); false when the queue is full or the proxy is stopping.</summary>
    public bool TryEnqueue(AuditEvent auditEvent) =>
        _queue.Writer.TryWrite(auditEvent.Time == default ? auditEvent with { Time = _log.Time.GetUtcNow() } : auditEvent);

    /// <summary>Queues the <c>db.query</c> event of one statement of a session (<paramref name="protocol"/>: how it was
    /// sent, e.g. simple or extended).</summary>
    /// <exception cref="InvalidDataException">The queue is full: the session is to end rather than run unaudited.</exception>
    public void Statement(Caller caller, Database database, string dbUser, string dbName, string protocol, string text, bool cut)
    {
        var details = new Dictionary<string, string>
        {
            ["db_user"] = dbUser, ["db_name"] = dbName, ["protocol"] = protocol, ["query"] = text,
        };
        if (cut) details["truncated"] = "true";
        if (!TryEnqueue(AccessAudit.SessionEvent(AuditEventTypes.DbQuery, caller, database.Resource, details, _log.Time.GetUtcNow())))
            throw new InvalidDataException("the audit trail cannot keep up with this session's statements; the session is ended rather than run unaudited");
    }

    private async Task WriteAsync()
    {
        var batch = new List<AuditEvent>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            // What has queued up since the last commit goes in the next one: one commit per batch, not per statement.
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var auditEvent)) batch.Add(auditEvent);
            // A store that fails is tried again until it takes the batch: nothing is dropped. Meanwhile the queue fills,
            // and sessions end rather than run unaudited (TryEnqueue). Only a stopping proxy gives up, saying so.
            while (true)
            {
                try
                {
                    await _log.RecordBatchAsync(batch, CancellationToken.None);
                    break;
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or System.Data.Common.DbException)
                {
                    ProxyLog.QueryAuditFailed(_logger, batch.Count, e.Message);
                    if (_stopping.IsCancellationRequested) break;
                    await Task.Delay(RetryDelay, CancellationToken.None);
                }
            }
            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _writing;
        _stopping.Dispose();
    }
}
