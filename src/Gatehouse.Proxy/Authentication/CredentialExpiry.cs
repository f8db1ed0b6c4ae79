namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// Sessions end with their credential (docs/architecture.md): access is decided when a connection or request starts,
/// and what it was decided for also bounds how long it lasts. <see cref="Token"/> is cancelled when the caller's
/// certificate (or web session) expires, on the proxy's clock — a TCP app connection links it into its pump; a watch, a
/// log stream, an exec session or an app's WebSocket aborts its request on it. Dispose when the session is over.
/// </summary>
internal sealed class CredentialExpiry : IDisposable
{
    // A timer cannot be set further ahead than about 49.7 days (uint.MaxValue - 1 ms; CancellationTokenSource's delay
    // throws past it too). A company certificate can live for years: the timer is re-armed until the day comes.
    private static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly CancellationTokenSource _expired = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timer;

    public CredentialExpiry(Caller caller, TimeProvider time)
    {
        Caller = caller;
        _time = time;
        _timer = time.CreateTimer(_ => Arm(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Arm();
    }

    public Caller Caller { get; }

    /// <summary>Cancelled at <see cref="Caller.ExpiresAt"/> (at once when that has passed).</summary>
    public CancellationToken Token => _expired.Token;

    public bool HasExpired => _expired.IsCancellationRequested;

    /// <summary>"the certificate expired at 2026-01-31 12:00:00Z": how the session ended, for its log line.</summary>
    public string Describe() => $"the {Caller.Credential} expired at {Caller.ExpiresAt:u}";

    private void Arm()
    {
        try
        {
            var left = Caller.ExpiresAt - _time.GetUtcNow();
            if (left <= TimeSpan.Zero) _expired.Cancel();
            else _timer.Change(left < LongestWait ? left : LongestWait, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The session ended while the timer fired: nothing left to cut.
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _expired.Dispose();
    }
}
