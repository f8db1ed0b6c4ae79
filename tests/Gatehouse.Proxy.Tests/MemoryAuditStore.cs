using System.Collections.Concurrent;
using Gatehouse.Storage;

namespace Gatehouse.Proxy.Tests;

/// <summary>An audit store in memory: what the proxy wrote to the trail, in order.</summary>
internal sealed class MemoryAuditStore : IAuditStore
{
    private readonly ConcurrentQueue<AuditEvent> _events = new();

    public IReadOnlyList<AuditEvent> Events => [.. _events];

    public ValueTask<long> AppendAuditAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        _events.Enqueue(auditEvent);
        return ValueTask.FromResult((long)_events.Count);
    }

    public ValueTask<IReadOnlyList<AuditEvent>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken) => ValueTask.FromResult(Events);
}
