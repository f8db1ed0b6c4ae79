using Gatehouse.Routing;

namespace Gatehouse.Client.Ssh;

/// <summary>A process's standard input and output as one duplex stream: what a ProxyCommand speaks to ssh. Ending the
/// writing direction closes standard output, which ssh reads as the connection's end.</summary>
internal sealed class StdioStream(Stream input, Stream output) : Stream, IHalfClosable
{
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty ? ValueTask.FromResult(0) : input.ReadAsync(buffer, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        output.WriteAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);
    public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);
    public override void Flush() => output.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public ValueTask CompleteWritesAsync() => output.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
