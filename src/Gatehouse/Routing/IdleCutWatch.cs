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
internal sealed class IdleCutWatch : Stream
{
    /// <summary>Shorter silences are not idle: a connection dropped mid-conversation is some other fault.</summary>
    public static readonly TimeSpan MinimumIdle = TimeSpan.FromSeconds(1);

    private readonly Stream _inner;
    private readonly WebSocket _socket;
    private readonly TimeSpan _pingInterval;
    private readonly TimeProvider _time;
    private readonly Action<TimeSpan> _report;
    private long _lastActivity;
    private int _done;

    /// <param name="inner">The stream over <paramref name="socket"/> (<see cref="WebSocketStream"/>).</param>
    /// <param name="report">Called once with the idle time when the tunnel was cut as a balancer's idle timeout cuts.</param>
    public IdleCutWatch(Stream inner, WebSocket socket, TimeSpan pingInterval, TimeProvider time, Action<TimeSpan> report)
    {
        _inner = inner;
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

    public override bool CanRead => _inner.CanRead;
    public override bool CanWrite => _inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await _inner.ReadAsync(buffer, cancellationToken);
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
        await _inner.WriteAsync(buffer, cancellationToken);
        Touch();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
    public override void Flush() => _inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    private void Ended()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        var idle = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (LooksLikeIdleTimeout(_socket.CloseStatus is not null, idle, _pingInterval)) _report(idle);
    }

    protected override void Dispose(bool disposing)
    {
        // Our own end of the tunnel: whatever the pending read says next is not the balancer's doing.
        Interlocked.Exchange(ref _done, 1);
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _done, 1);
        await _inner.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
