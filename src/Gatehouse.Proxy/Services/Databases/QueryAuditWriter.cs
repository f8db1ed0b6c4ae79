using System.Threading.Channels;
using Gatehouse.Audit;
using Gatehouse.Storage;
using Microsoft.Extensions.Logging;

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
