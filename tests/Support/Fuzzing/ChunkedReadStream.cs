namespace Gatehouse.Testing.Fuzzing;

/// <summary>
/// A read-only stream over fuzz input that hands it out in odd pieces (1 byte, a few, or all that fits), chosen by the
/// input's own <see cref="Random"/>, as a network peer would: parsers must not assume a message arrives in one read.
/// Reads complete synchronously, so an async parser runs on the fuzzing thread and its allocations are counted.
/// </summary>
internal sealed class ChunkedReadStream(byte[] data, Random random) : Stream
{
    private int _at;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true; // answers a parser writes (PostgreSQL's 'N') are dropped
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _at >= data.Length) return 0;
        var piece = random.Next(4) switch { 0 => 1, 1 => random.Next(1, 8), 2 => random.Next(1, 300), _ => buffer.Length };
        var count = Math.Min(Math.Min(piece, buffer.Length), data.Length - _at);
        data.AsSpan(_at, count).CopyTo(buffer);
        _at += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Write(byte[] buffer, int offset, int count) { }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
