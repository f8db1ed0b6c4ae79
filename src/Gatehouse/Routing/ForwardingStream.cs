namespace Gatehouse.Routing;

/// <summary>
/// A stream over another one that passes everything on: the base of the tunnel's wrappers (ping framing, a replayed
/// prefix, an idle-cut watch, a pooled tunnel, a connection's pipes), which override only what they change. Not
/// seekable. Synchronous reads and writes go through the asynchronous overrides, so a wrapper's logic lives in one
/// place; nothing on our side reads or writes these streams synchronously. Disposing is idempotent: the first call
/// runs <see cref="DisposeInner"/> or <see cref="DisposeInnerAsync"/>, later ones do nothing.
/// </summary>
internal abstract class ForwardingStream(Stream inner) : Stream
{
    private int _disposed;

    /// <summary>The stream this one passes to.</summary>
    protected Stream Inner { get; } = inner;

    /// <summary>True once disposing has started.</summary>
    protected bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public override bool CanRead => Inner.CanRead;
    public override bool CanWrite => Inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        Inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);
    public override void Flush() => Inner.Flush();

    /// <summary>Once, on the first <see cref="Stream.Dispose()"/>: let go of what the wrapper holds, then of
    /// <see cref="Inner"/>.</summary>
    protected virtual void DisposeInner() => Inner.Dispose();

    /// <summary>Once, on the first <see cref="DisposeAsync"/>.</summary>
    protected virtual ValueTask DisposeInnerAsync() => Inner.DisposeAsync();

    public sealed override async ValueTask DisposeAsync()
    {
        // Not base.DisposeAsync: it calls Dispose(), which would dispose the inner stream a second time, synchronously.
        if (Interlocked.Exchange(ref _disposed, 1) == 0) await DisposeInnerAsync();
        base.Dispose(false);
        GC.SuppressFinalize(this);
    }

    protected sealed override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0) DisposeInner();
        base.Dispose(disposing);
    }
}
