using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>
/// An upgraded tunnel waiting in the <see cref="TunnelPool"/>, with one read always pending. The proxy sends nothing on a
/// tunnel before the client's inner ClientHello, so that read completing means the tunnel ended (a balancer's idle cut,
/// a proxy restart): <see cref="IsDead"/> is then true and the pool drops it instead of handing it out. When the tunnel is
/// used, the pending read becomes the first read of the inner TLS (it holds the first byte of the ServerHello).
/// </summary>
internal sealed class PooledTunnel : ForwardingStream
{
    private readonly byte[] _first = new byte[1];
    private Task<int>? _pending;
    private bool _held, _ended;

    public PooledTunnel(Stream inner, DateTimeOffset opened) : base(inner)
    {
        Opened = opened;
        _pending = inner.ReadAsync(_first).AsTask();
    }

    /// <summary>When the upgrade completed; the proxy's ClientHello deadline runs from about then.</summary>
    public DateTimeOffset Opened { get; }

    /// <summary>The peer closed, failed or (against the protocol) spoke first: not usable for a dial.</summary>
    public bool IsDead => _pending is { IsCompleted: true };

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
        return await Inner.ReadAsync(buffer, cancellationToken);
    }

    protected override async ValueTask DisposeInnerAsync()
    {
        await Inner.DisposeAsync();
        await Observe();
    }

    protected override void DisposeInner()
    {
        Inner.Dispose();
        _ = Observe();
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
