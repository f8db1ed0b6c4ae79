namespace Gatehouse.Proxy.Tests;

/// <summary>A clock whose timers fire only when the test moves it (<see cref="Advance"/>): expiry is tested without
/// waiting and without depending on the machine's speed.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    private readonly List<ManualTimer> _timers = [];

    public DateTimeOffset Now { get; private set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    /// <summary>Moves the clock and fires every timer that fell due, in order, including timers re-armed on the way.</summary>
    public void Advance(TimeSpan by)
    {
        var until = Now + by;
        while (true)
        {
            ManualTimer? next;
            lock (_timers) next = _timers.Where(t => t.Due is { } due && due <= until).MinBy(t => t.Due);
            if (next is null) break;
            Now = next.Due!.Value;
            next.Fire();
        }
        Now = until;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_timers) _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class ManualTimer(ManualTime time, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            // Like System.Threading.Timer: a due time past about 49.7 days is refused.
            ArgumentOutOfRangeException.ThrowIfGreaterThan(dueTime.TotalMilliseconds, uint.MaxValue - 1.0, nameof(dueTime));
            Due = dueTime == Timeout.InfiniteTimeSpan ? null : time.Now + dueTime;
            return true;
        }

        public void Fire()
        {
            Due = null;
            callback(state);
        }

        public void Dispose() => Due = null;

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
