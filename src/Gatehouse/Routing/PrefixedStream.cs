using System.Buffers;

namespace Gatehouse.Routing;

/// <summary>
/// Replays bytes already read from a stream, then goes on reading the stream itself: the router sniffs the ClientHello
/// off a tunnelled stream and hands "what was read + the rest" to <see cref="System.Net.Security.SslStream"/>. Writes go
/// straight to the inner stream; disposing disposes it. A pooled prefix goes back to its pool as soon as it has been
/// read (or on dispose), so a long-lived tunnel does not hold it.
/// </summary>
internal sealed class PrefixedStream : ForwardingStream
{
    private readonly ArrayPool<byte>? _pool;
    private byte[]? _prefix;
    private int _offset;
    private readonly int _end;

    /// <param name="inner">The stream the prefix was read from.</param>
    /// <param name="prefix">The bytes read so far; owned by this stream from now on.</param>
    /// <param name="length">How many bytes of <paramref name="prefix"/> are data.</param>
    /// <param name="pool">The pool <paramref name="prefix"/> was rented from, or null when it is not pooled.</param>
    public PrefixedStream(Stream inner, byte[] prefix, int length, ArrayPool<byte>? pool = null) : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)prefix.Length, nameof(length));
        _prefix = prefix;
        _end = length;
        _pool = pool;
        if (length == 0) ReleasePrefix();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A zero-byte read asks "is data ready?": with prefix bytes left it is, so answer at once.
        if (_prefix is not null) return ValueTask.FromResult(buffer.IsEmpty ? 0 : ReadPrefix(buffer.Span));
        return Inner.ReadAsync(buffer, cancellationToken);
    }

    public override int Read(Span<byte> buffer)
    {
        if (_prefix is not null) return buffer.IsEmpty ? 0 : ReadPrefix(buffer);
        return Inner.Read(buffer);
    }

    private int ReadPrefix(Span<byte> buffer)
    {
        var prefix = _prefix;
        if (prefix is null) return 0; // disposed meanwhile
        var count = Math.Min(buffer.Length, _end - _offset);
        prefix.AsSpan(_offset, count).CopyTo(buffer);
        _offset += count;
        if (_offset == _end) ReleasePrefix();
        return count;
    }

    // Exactly once, whether the last read or Dispose gets here first.
    private void ReleasePrefix()
    {
        var prefix = Interlocked.Exchange(ref _prefix, null);
        if (prefix is not null && prefix.Length > 0) _pool?.Return(prefix);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    protected override ValueTask DisposeInnerAsync()
    {
        ReleasePrefix();
        return Inner.DisposeAsync();
    }

    protected override void DisposeInner()
    {
        ReleasePrefix();
        Inner.Dispose();
    }
}
