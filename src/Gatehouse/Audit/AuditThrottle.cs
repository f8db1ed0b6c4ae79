using System.Collections.Concurrent;

namespace Gatehouse.Audit;

/// <summary>
/// Lets one event per key through per window, so a flood of the same refusal (forged headers from one address)
/// is audited, not replayed into the store at line rate. Bounded: when full it forgets everything.
/// </summary>
internal sealed class AuditThrottle(TimeSpan window, int capacity = 10_000)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _last = new(StringComparer.Ordinal);

    public bool ShouldRecord(string key, DateTimeOffset now)
    {
        if (_last.Count >= capacity) _last.Clear();
        var recorded = false;
        _last.AddOrUpdate(key, _ => { recorded = true; return now; }, (_, previous) =>
        {
            if (now - previous < window) return previous;
            recorded = true;
            return now;
        });
        return recorded;
    }
}
