using System.Collections.Concurrent;

namespace Gatehouse.Audit;

/// <summary>What <see cref="AuditThrottle.Admit"/> decided about one event.</summary>
internal enum AuditVerdict
{
    /// <summary>Write it.</summary>
    Record,
    /// <summary>Its key already came within the window (recorded, or counted over the cap): not news.</summary>
    Repeat,
    /// <summary>A new key, but the throttle has recorded its limit for this window across all keys: counted, not written.</summary>
    OverCap,
}

/// <param name="NotRecorded">For <see cref="AuditVerdict.Record"/>: how many events the cap kept out since the last recorded
/// one (to be said in this one). For <see cref="AuditVerdict.OverCap"/>: how many it has kept out so far, this one included
/// (1 = the cap was just reached).</param>
internal readonly record struct AuditAdmission(AuditVerdict Verdict, long NotRecorded);

/// <summary>
/// Lets one event per key through per window, so a flood of the same refusal (forged headers from one address)
/// is audited, not replayed into the store at line rate. Bounded: when full it forgets everything. With a global limit
/// it also lets at most that many events through per window whatever their keys, so a sender with many keys (many
/// addresses: an IPv6 /64 is 2^64 of them) cannot write to the store at line rate either; what the cap keeps out is
/// counted and reported by the next event that gets through (issue 11).
/// </summary>
internal sealed class AuditThrottle(TimeSpan window, int capacity = 10_000, int? globalLimit = null)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _last = new(StringComparer.Ordinal);
    private readonly Lock _cap = new();
    private DateTimeOffset _capWindowStart = DateTimeOffset.MinValue;
    private int _recordedInCapWindow;
    private long _notRecorded;

    public bool ShouldRecord(string key, DateTimeOffset now) => Admit(key, now).Verdict == AuditVerdict.Record;

    public AuditAdmission Admit(string key, DateTimeOffset now)
    {
        if (_last.Count >= capacity) _last.Clear();
        var first = false;
        _last.AddOrUpdate(key, _ => { first = true; return now; }, (_, previous) =>
        {
            if (now - previous < window) return previous;
            first = true;
            return now;
        });
        if (!first) return new AuditAdmission(AuditVerdict.Repeat, 0);
        if (globalLimit is not { } limit) return new AuditAdmission(AuditVerdict.Record, 0);
        // Only events that passed their key's throttle get here, so the lock is taken at most once per key and window.
        lock (_cap)
        {
            if (now - _capWindowStart >= window)
            {
                _capWindowStart = now;
                _recordedInCapWindow = 0;
            }
            if (_recordedInCapWindow >= limit) return new AuditAdmission(AuditVerdict.OverCap, ++_notRecorded);
            _recordedInCapWindow++;
            var notRecorded = _notRecorded;
            _notRecorded = 0;
            return new AuditAdmission(AuditVerdict.Record, notRecorded);
        }
    }
}
