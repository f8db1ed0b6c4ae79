using Gatehouse.Proxy.Authentication;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Proxy.Tunnel;

/// <summary>
/// Where tunnelled connections that are not for a gatehouse-* service re-enter the proxy (ARCHITECTURE §4): a TLS
/// ClientHello for the web side (an HTTP app's host, <c>kube-gatehouse.*</c>, <c>/kube/NAME</c>) arriving inside a
/// tunnel becomes a Kestrel connection on <see cref="InnerEndPoint"/>, which serves HTTPS exactly as the TLS port does.
/// Kestrel picks this transport for that endpoint only (IConnectionListenerFactorySelector); sockets serve the rest.
/// </summary>
internal sealed class InnerConnections : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly Channel<InnerConnection> _arrivals = Channel.CreateUnbounded<InnerConnection>(new UnboundedChannelOptions { SingleReader = true });

    public bool CanBind(EndPoint endpoint) => endpoint is InnerEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(new Listener(_arrivals.Reader, endpoint));

    /// <summary>Hands <paramref name="stream"/> (its ClientHello unread) to Kestrel and returns when the connection ends.
    /// Owns the stream.</summary>
    public async Task ServeAsync(Stream stream, TunnelledConnection tunnel, string connectionId, CancellationToken cancellationToken)
    {
        var connection = new InnerConnection(stream, tunnel, connectionId);
        if (_arrivals.Writer.TryWrite(connection))
        {
            try
            {
                await connection.Ended.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The tunnel went (or the proxy stops): the inner connection goes with it.
                connection.Abort(new ConnectionAbortedException("the tunnel closed"));
            }
        }
        // Closing the stream ends whatever Kestrel still reads or writes; Kestrel then disposes the connection itself.
        await stream.DisposeAsync();
    }

    private sealed class Listener(ChannelReader<InnerConnection> arrivals, EndPoint endpoint) : IConnectionListener
    {
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => endpoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
            try
            {
                return await arrivals.ReadAsync(either.Token);
            }
            catch (OperationCanceledException)
            {
                return null; // unbound: Kestrel stops accepting
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound.Cancel();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _unbound.Cancel();
            _unbound.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The address of tunnelled inner connections in Kestrel's endpoint list.</summary>
internal sealed class InnerEndPoint : EndPoint
{
    public static InnerEndPoint Instance { get; } = new();

    private InnerEndPoint() { }

    public override string ToString() => "tunnel (inner connections)";
}

/// <summary>
/// A tunnelled stream as a Kestrel connection, built the way Kestrel's socket transport is: two pipes, one task
/// copying the stream into the input pipe and one copying the output pipe to the stream. So everything Kestrel wrote
/// reaches the stream before it closes — the last bytes of an upgraded request (a WebSocket app's close frame) too.
/// </summary>
internal sealed class InnerConnection : ConnectionContext
{
    private const int ReadSize = 16 * 1024;

    private readonly Stream _stream;
    private readonly System.IO.Pipelines.Pipe _input = new(), _output = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reading, _writing;
    private int _disposed;

    public InnerConnection(Stream stream, TunnelledConnection tunnel, string connectionId)
    {
        _stream = stream;
        ConnectionId = connectionId;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        RemoteEndPoint = new IPEndPoint(tunnel.Client, 0);
        LocalEndPoint = InnerEndPoint.Instance;
        Features.Set(tunnel);
        _reading = ReadLoopAsync();
        _writing = WriteLoopAsync();
    }

    /// <summary>Completes when Kestrel is done with the connection (or it was aborted).</summary>
    public Task Ended => _ended.Task;

    public override string ConnectionId { get; set; }
    public override IFeatureCollection Features { get; } = new FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException("the inner connection's closed token is its own");
    }

    /// <summary>Stream → input pipe, until the stream ends or fails (closing it ends a pending read).</summary>
    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var read = await _stream.ReadAsync(_input.Writer.GetMemory(ReadSize));
                if (read == 0) break;
                _input.Writer.Advance(read);
                var flushed = await _input.Writer.FlushAsync();
                if (flushed.IsCompleted || flushed.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            failure = new ConnectionResetException(e.Message, e);
        }
        finally
        {
            if (!_closed.IsCancellationRequested) _closed.Cancel(); // the peer went: Kestrel's "connection closed"
        }
        await _input.Writer.CompleteAsync(failure);
    }

    /// <summary>Output pipe → stream, until Kestrel completes the output (everything written is sent) or the stream fails.</summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _output.Reader.ReadAsync();
                foreach (var segment in result.Buffer) await _stream.WriteAsync(segment);
                if (!result.Buffer.IsEmpty) await _stream.FlushAsync();
                _output.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // The tunnel went; what is left cannot be sent.
        }
        await _output.Reader.CompleteAsync();
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (!_closed.IsCancellationRequested) _closed.Cancel();
        _output.Reader.CancelPendingRead();
        _ended.TrySetResult(); // the tunnel endpoint closes the stream, which ends the read loop
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _output.Writer.CompleteAsync(); // Kestrel has completed it already; then this is nothing
        await _writing;                       // everything Kestrel wrote is on the stream
        await _stream.DisposeAsync();         // a WebSocket tunnel closes gracefully here
        await _reading;
        await _input.Reader.CompleteAsync();
        _ended.TrySetResult();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;
        public PipeWriter Output => output;
    }
}
