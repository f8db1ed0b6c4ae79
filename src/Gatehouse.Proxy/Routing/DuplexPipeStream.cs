using System.IO.Pipelines;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Routing;

/// <summary>A Kestrel connection's transport pipes seen as one Stream, so the router serves direct connections and
/// tunnelled ones (which are Streams) with the same code. Bytes the ClientHello peek examined are still unread.
/// Reads go to the input pipe (the inner stream), writes and flushes to the output pipe.</summary>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : ForwardingStream(pipe.Input.AsStream(leaveOpen: true))
{
    private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);

    public override bool CanWrite => true;
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);
    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);
    public override void Flush() => _output.Flush();

    protected override async ValueTask DisposeInnerAsync()
    {
        await pipe.Output.CompleteAsync();
        await pipe.Input.CompleteAsync();
    }

    protected override void DisposeInner()
    {
        pipe.Output.Complete();
        pipe.Input.Complete();
    }
}
