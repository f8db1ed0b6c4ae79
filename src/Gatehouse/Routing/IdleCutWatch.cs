using System.Net.WebSockets;

namespace Gatehouse.Routing;

/// <summary>
/// A WebSocket tunnel's stream, watched for the way a balancer's idle timeout ends it (issue 18, item 5): the connection
/// drops with no WebSocket close handshake after the tunnel carried nothing for a while, and before the next ping was
/// due. That is what nginx (proxy_read_timeout), HAProxy (timeout tunnel) and an ALB (idle_timeout.timeout_seconds) do
/// when their timeout is shorter than the ping interval, and the side that sees it can say which setting to change.
/// A close handshake (either side disposing its tunnel) is a normal end and reports nothing; so is a tunnel that was
/// busy, or idle longer than the ping interval (pings were flowing, so something else cut it). Reports at most once.
/// </summary>
internal sealed class IdleCutWatch : ForwardingStream
{
    /// <summary>Shorter silences are not idle: a connection dropped mid-conversation is some other fault.</summary>
    public static readonly TimeSpan MinimumIdle = TimeSpan.FromSeconds(1);

    private readonly WebSocket _socket;
    private readonly TimeSpan _pingInterval;
    private readonly TimeProvider _time;
    private readonly Action<TimeSpan> _report;
    private long _lastActivity;
    private int _done;

    /// <param name="inner">The stream over <paramref name="socket"/> (<see cref="WebSocketStream"/>).</param>
    /// <param name="report">Called once with the idle time when the tunnel was cut as a balancer's idle timeout cuts.</param>
    public IdleCutWatch(Stream inner, WebSocket socket, TimeSpan pingInterval, TimeProvider time, Action<TimeSpan> report) : base(inner)
    {
        _socket = socket;
        _pingInterval = pingInterval;
        _time = time;
        _report = report;
        _lastActivity = time.GetTimestamp();
    }

    /// <summary>The decision, apart from the stream: cut abruptly, idle at least <see cref="MinimumIdle"/>, and less than
    /// one ping interval (with a ping due at every interval, a longer silence had pings in it).</summary>
    public static bool LooksLikeIdleTimeout(bool closeHandshake, TimeSpan idle, TimeSpan pingInterval) =>
        !closeHandshake && idle >= MinimumIdle && idle < pingInterval;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await Inner.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (e is IOException or WebSocketException && !cancellationToken.IsCancellationRequested)
        {
            Ended();
            throw;
        }
        if (read == 0 && buffer.Length > 0) Ended();
        else Touch();
        return read;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Inner.WriteAsync(buffer, cancellationToken);
        Touch();
    }

    private void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    private void Ended()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        var idle = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (LooksLikeIdleTimeout(_socket.CloseStatus is not null, idle, _pingInterval)) _report(idle);
    }

    // Our own end of the tunnel: whatever the pending read says next is not the balancer's doing.
    protected override void DisposeInner()
    {
        Interlocked.Exchange(ref _done, 1);
        Inner.Dispose();
    }

    protected override ValueTask DisposeInnerAsync()
    {
        Interlocked.Exchange(ref _done, 1);
        return Inner.DisposeAsync();
    }
}
