using System.Collections.Concurrent;

namespace Gatehouse.ForwardedCerts;

/// <summary>
/// Verdicts on certificates, keyed by what was presented and the trust-store version (<see cref="VerdictKey"/>), so a balancer's steady stream
/// of requests with the same certificate costs one chain validation per lifetime. Bounded: when full, expired entries
/// go first, then everything (a refill costs validations, never correctness).
/// </summary>
internal sealed class VerdictCache(int capacity)
{
    private readonly ConcurrentDictionary<VerdictKey, (ForwardedAuthentication Verdict, DateTimeOffset Expires)> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet(VerdictKey key, DateTimeOffset now, out ForwardedAuthentication verdict)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Expires > now)
        {
            verdict = entry.Verdict;
            return true;
        }
        verdict = null!;
        return false;
    }

    public void Set(VerdictKey key, ForwardedAuthentication verdict, DateTimeOffset expires, DateTimeOffset now)
    {
        if (expires <= now) return;
        if (_entries.Count >= capacity)
        {
            foreach (var (k, v) in _entries)
                if (v.Expires <= now) _entries.TryRemove(k, out _);
            if (_entries.Count >= capacity) _entries.Clear();
        }
        _entries[key] = (verdict, expires);
    }
}
