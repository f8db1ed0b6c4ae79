using System.Security.Cryptography.X509Certificates;
using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>Everything that makes an upgraded tunnel what it is: where it goes, who the outer and inner TLS speak for, and
/// what was upgraded to. A pooled tunnel serves only a dial with the same key (issue 17: never shared between identities).</summary>
internal sealed record TunnelPoolKey(string Proxy, string? ClientCertificate, string? OuterCertificate, bool Insecure, TunnelKind Kind, bool Ping)
{
    public static TunnelPoolKey For(DialerOptions options, TunnelKind kind, bool ping) =>
        new(options.Proxy.ToString(), Thumbprint(options.ClientCertificate), Thumbprint(options.Outer.Certificate), options.Insecure, kind, ping);

    private static string? Thumbprint(X509Certificate2? certificate) => certificate?.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
}

/// <summary>
/// A few upgraded tunnels kept ready (outer TLS to the balancer and the upgrade done), so that a local proxy's new
/// connection pays only the inner TLS (issue 17). Sized by demand: refilled to the peak of concurrent dials seen in the
/// last two <see cref="TunnelPoolSettings.DemandWindow"/>s, capped at <see cref="TunnelPoolSettings.MaxSize"/>, empty once no
/// dial came for a window. A pooled tunnel is handed out only while younger than <see cref="TunnelPoolSettings.MaxIdle"/>
/// (below the proxy's ClientHello deadline and any balancer's idle timeout) and replaced after. Holds one key's tunnels:
/// a dial with another key (a new login, another certificate) drops them all. Thread-safe.
/// </summary>
internal sealed class TunnelPool : IAsyncDisposable
{
    /// <summary>Opens one tunnel for <paramref name="key"/>: the stream, or the sentence why not.</summary>
    public delegate Task<(Stream? Stream, string? Error)> Opener(TunnelPoolKey key, CancellationToken cancellationToken);

    private readonly TunnelPoolSettings _settings;
    private readonly Opener _open;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _lock = new();
    private readonly List<PooledTunnel> _idle = [];
    private readonly List<Opening> _opening = []; // being opened for the pool, not yet claimed by a dial
    private TunnelPoolKey? _key;
    private int _dialing, _peak, _previousPeak, _opened;
    private DateTimeOffset _windowStart, _lastDial = DateTimeOffset.MinValue;
    private bool _backgroundFailed;

    public TunnelPool(TunnelPoolSettings settings, Opener open, TimeProvider? time = null)
    {
        _settings = settings;
        _open = open;
        _time = time ?? TimeProvider.System;
        _windowStart = _time.GetUtcNow();
        var tick = settings.MaxIdle / 2;
        _timer = _time.CreateTimer(_ => Maintain(), null, tick, tick);
    }

    /// <summary>Idle tunnels ready now and still alive (for tests and diagnostics).</summary>
    public int Ready
    {
        get { lock (_lock) return _idle.Count(t => !t.IsDead); }
    }

    /// <summary>Background opens not finished yet.</summary>
    public int Pending
    {
        get { lock (_lock) return _opening.Count; }
    }

    /// <summary>Tunnels the pool opened in the background so far (for tests and the bench).</summary>
    public int Opened => Volatile.Read(ref _opened);

    /// <summary>How many tunnels the pool aims to hold now.</summary>
    public int Target
    {
        get { lock (_lock) return TargetLocked(_time.GetUtcNow()); }
    }

    /// <summary>
    /// A tunnel for <paramref name="key"/>: 1. a live idle one younger than MaxIdle; 2. else one the pool is opening (it
    /// is as far along as a fresh one would be); 3. else a fresh one. Then the pool refills behind the dial at once, not
    /// after the dial's inner handshake: over a link with round trips the refill's own three (TCP, TLS, upgrade) must
    /// overlap the dial's, or a connection that follows soon finds it unfinished and waits (measured, 20 ms each way:
    /// set-up p50 about 170 ms refilling here against 260 ms refilling after the handshake, 177 ms direct;
    /// docs/benchmarks.md, "Issue 17: the pool over a delayed link").
    /// <c>Pooled</c> says the tunnel was opened before the dial asked (a failure on it calls for one fresh retry).
    /// </summary>
    public async Task<(Stream? Stream, bool Pooled, string? Error)> TakeAsync(TunnelPoolKey key, CancellationToken cancellationToken)
    {
        Opening? claimed = null;
        PooledTunnel? ready = null;
        List<PooledTunnel>? stale;
        lock (_lock)
        {
            stale = Rekey(key);
            var now = _time.GetUtcNow();
            _lastDial = now;
            _backgroundFailed = false;
            Roll(now);
            _dialing++;
            _peak = Math.Max(_peak, _dialing);
            stale = Expire(now, stale);
            if (_idle.Count > 0)
            {
                ready = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
            }
            else if (_opening.Count > 0)
            {
                claimed = _opening[0];
                claimed.Claimed = true;
                _opening.RemoveAt(0);
            }
        }
        DisposeAll(stale);
        try
        {
            if (ready is not null) return (ready, true, null);
            if (claimed is not null && await claimed.Done.Task.WaitAsync(cancellationToken) is { } opened)
            {
                if (!opened.IsDead) return (opened, true, null);
                await opened.DisposeAsync();
            }
            var (stream, error) = await _open(key, cancellationToken);
            return (stream, false, error);
        }
        finally
        {
            lock (_lock) _dialing--;
            Replenish();
        }
    }

    /// <summary>The timer's work: drop dead and old tunnels, and refill to the target (or shrink to it).</summary>
    private void Maintain()
    {
        List<PooledTunnel>? stale;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Roll(now);
            stale = Expire(now, null);
            var target = TargetLocked(now);
            while (_idle.Count > target)
            {
                (stale ??= []).Add(_idle[0]);
                _idle.RemoveAt(0);
            }
        }
        DisposeAll(stale);
        Replenish();
    }

    /// <summary>Starts as many opens as the target lacks. A failed background open waits for the next dial before the
    /// pool tries again, so an unreachable balancer is not hammered by an idle local proxy.</summary>
    private void Replenish()
    {
        lock (_lock)
        {
            if (_disposed.IsCancellationRequested || _key is not { } key || _backgroundFailed) return;
            var missing = TargetLocked(_time.GetUtcNow()) - _idle.Count - _opening.Count;
            for (var i = 0; i < missing; i++)
            {
                var opening = new Opening();
                _opening.Add(opening);
                _ = OpenForPoolAsync(opening, key);
            }
        }
    }

    private async Task OpenForPoolAsync(Opening opening, TunnelPoolKey key)
    {
        await Task.Yield(); // never under the caller's lock
        Stream? stream;
        try
        {
            (stream, _) = await _open(key, _disposed.Token);
        }
        catch (OperationCanceledException)
        {
            stream = null;
        }
        var tunnel = stream is null ? null : new PooledTunnel(stream, _time.GetUtcNow());
        bool claimed, kept = false;
        lock (_lock)
        {
            claimed = opening.Claimed;
            if (tunnel is null) _backgroundFailed = true;
            if (!claimed)
            {
                _opening.Remove(opening);
                // Unclaimed: idle, unless the key changed (a new login) or the pool closed meanwhile.
                kept = tunnel is not null && _key == key && !_disposed.IsCancellationRequested;
                if (kept) _idle.Add(tunnel!);
            }
        }
        if (tunnel is not null) Interlocked.Increment(ref _opened);
        if (!claimed && !kept && tunnel is not null) await tunnel.DisposeAsync();
        opening.Done.TrySetResult(claimed ? tunnel : null);
    }

    /// <summary>A background open; a dial that finds no idle tunnel claims one and awaits it.</summary>
    private sealed class Opening
    {
        public TaskCompletionSource<PooledTunnel?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Claimed { get; set; }
    }

    /// <summary>The key changed (another certificate, another mode): everything held for the old one goes.</summary>
    private List<PooledTunnel>? Rekey(TunnelPoolKey key)
    {
        if (_key == key) return null;
        _key = key;
        _peak = _previousPeak = 0;
        List<PooledTunnel> stale = [.. _idle];
        _idle.Clear();
        _opening.Clear(); // those still opening see the new key and dispose their tunnel
        return stale;
    }

    private List<PooledTunnel>? Expire(DateTimeOffset now, List<PooledTunnel>? stale)
    {
        for (var i = _idle.Count - 1; i >= 0; i--)
        {
            var tunnel = _idle[i];
            if (!tunnel.IsDead && now - tunnel.Opened < _settings.MaxIdle) continue;
            (stale ??= []).Add(tunnel);
            _idle.RemoveAt(i);
        }
        return stale;
    }

    /// <summary>Demand windows: the peak of the current and the previous one count.</summary>
    private void Roll(DateTimeOffset now)
    {
        if (now - _windowStart < _settings.DemandWindow) return;
        _previousPeak = now - _windowStart < _settings.DemandWindow * 2 ? _peak : 0;
        _peak = _dialing;
        _windowStart = now;
    }

    private int TargetLocked(DateTimeOffset now) =>
        _key is null || now - _lastDial >= _settings.DemandWindow ? 0 : Math.Min(_settings.MaxSize, Math.Max(_peak, _previousPeak));

    private static void DisposeAll(List<PooledTunnel>? tunnels)
    {
        if (tunnels is null) return;
        foreach (var tunnel in tunnels) _ = CloseAsync(tunnel);
    }

    /// <summary>Closes a tunnel nobody will use; a failure to close it gracefully changes nothing.</summary>
    private static async Task CloseAsync(PooledTunnel tunnel)
    {
        try
        {
            await tunnel.DisposeAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // already gone
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync();
        List<PooledTunnel> idle;
        lock (_lock)
        {
            _disposed.Cancel();
            idle = [.. _idle];
            _idle.Clear();
            _opening.Clear();
        }
        foreach (var tunnel in idle) await tunnel.DisposeAsync();
    }
}
