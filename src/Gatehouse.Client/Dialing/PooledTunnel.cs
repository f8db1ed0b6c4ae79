namespace Gatehouse.Client.Dialing;

/// <summary>
/// An upgraded tunnel waiting in the <see cref="TunnelPool"/>, with one read always pending. The proxy sends nothing on a
/// tunnel before the client's inner ClientHello, so that read completing means the tunnel ended (a balancer's idle cut,
/// a proxy restart): <see cref="IsDead"/> is then true and the pool drops it instead of handing it out. When the tunnel is
/// used, the pending read becomes the first read of the inner TLS (it holds the first byte of the ServerHello).
/// </summary>
internal sealed class PooledTunnel : Stream
{
    private readonly Stream _inner;
    private readonly byte[] _first = new byte[1];
    private Task<int>? _pending;
    private bool _held, _ended;

    public PooledTunnel(Stream inner, DateTimeOffset opened)
    {
        _inner = inner;
        Opened = opened;
        _pending = inner.ReadAsync(_first).AsTask();
    }

    /// <summary>When the upgrade completed; the proxy's ClientHello deadline runs from about then.</summary>
    public DateTimeOffset Opened { get; }

    /// <summary>The peer closed, failed or (against the protocol) spoke first: not usable for a dial.</summary>
    public bool IsDead => _pending is { IsCompleted: true };

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pending is { } pending)
        {
            int read;
            try
            {
                read = await pending.WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException and not IOException)
            {
                // A WebSocket's failure is a WebSocketException; the TLS above expects the stream's IOException.
                throw new IOException($"the tunnel failed: {e.Message}", e);
            }
            _pending = null;
            if (read == 0) _ended = true;
            else _held = true;
        }
        if (_ended) return 0;
        if (_held)
        {
            if (buffer.IsEmpty) return 0; // a zero-byte read: data is ready
            buffer.Span[0] = _first[0];
            _held = false;
            return 1;
        }
        return await _inner.ReadAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Only the inner TLS reads this stream, and it reads asynchronously; a synchronous caller still gets the right bytes.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _inner.WriteAsync(buffer, cancellationToken);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);
    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
    public override void Flush() => _inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        await Observe();
        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _ = Observe();
        }
        base.Dispose(disposing);
    }

    /// <summary>The pending read ends when the stream is closed; its outcome is of no interest then.</summary>
    private async Task Observe()
    {
        if (_pending is not { } pending) return;
        try
        {
            await pending;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // closed under it: expected
        }
    }
}
