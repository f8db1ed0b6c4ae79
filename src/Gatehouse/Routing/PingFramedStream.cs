using System.Buffers;
using System.Buffers.Binary;

namespace Gatehouse.Routing;

/// <summary>
/// The framing of the <c>-ping</c> protocols (ARCHITECTURE §3): every write is a 4-byte big-endian length and the
/// payload; a zero length is a ping, dropped by the reader. Sending a ping every interval keeps idle-timeout
/// balancers from cutting a quiet connection. Reads return payload bytes only. A half-close (the pump's "no more
/// data") stops the pings and is passed on to the inner stream, so the peer's reader sees the end.
/// </summary>
/// <remarks>
/// Sized for the TLS under it (issue 17). A frame written, header and payload in one write, is at most
/// <see cref="WriteFrame"/> bytes, a TLS record's 16 KiB of plaintext less room for the record's own overhead and a
/// WebSocket frame header: through a tunnel, each inner record then rides in one outer record, where a full 16 KiB
/// record (16,406 bytes with its overhead) spilled a few dozen bytes into a second outer record, and the old 64 KiB
/// frames' 4-byte header remainder into a record of its own. Readers accept frames up to <see cref="MaxFrame"/>, as
/// before. A read takes what the inner stream has (whole records) into the caller's buffer and strips the headers
/// in place, instead of one small read per header.
/// </remarks>
internal sealed class PingFramedStream : ForwardingStream, IHalfClosable
{
    public const int MaxFrame = 64 * 1024;
    /// <summary>The largest frame written, header included.</summary>
    public const int WriteFrame = 16 * 1024 - 64;
    private const int HeaderLength = 4;
    private static readonly byte[] PingFrame = new byte[HeaderLength]; // a zero length
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[HeaderLength];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pinger;
    private int _remaining; // payload bytes of the current frame not yet read
    private int _headerRead; // bytes of the next frame's header read so far (into _header)

    public PingFramedStream(Stream inner, TimeSpan? pingInterval, TimeProvider? time = null) : base(inner)
    {
        _pinger = pingInterval is { } interval ? PingAsync(interval, time ?? TimeProvider.System) : Task.CompletedTask;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return await Inner.ReadAsync(buffer, cancellationToken);
        while (true)
        {
            var read = await Inner.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                if (_remaining > 0) throw new EndOfStreamException("the connection closed inside a frame");
                if (_headerRead > 0) throw new EndOfStreamException("the connection closed inside a frame header");
                return 0;
            }
            var payload = Unframe(buffer.Span[..read]);
            if (payload > 0) return payload; // else only headers and pings came: read on
        }
    }

    /// <summary>Strips the frame headers out of <paramref name="bytes"/> (as read from the inner stream), moving the
    /// payload bytes to its front; returns how many there are. A header split across reads is kept in
    /// <see cref="_header"/>.</summary>
    private int Unframe(Span<byte> bytes)
    {
        int from = 0, to = 0;
        while (from < bytes.Length)
        {
            if (_remaining > 0)
            {
                var take = Math.Min(_remaining, bytes.Length - from);
                if (to != from) bytes.Slice(from, take).CopyTo(bytes[to..]); // overlapping, moving down: CopyTo allows it
                from += take;
                to += take;
                _remaining -= take;
                continue;
            }
            var headerTake = Math.Min(HeaderLength - _headerRead, bytes.Length - from);
            bytes.Slice(from, headerTake).CopyTo(_header.AsSpan(_headerRead));
            from += headerTake;
            _headerRead += headerTake;
            if (_headerRead < HeaderLength) break;
            _headerRead = 0;
            var length = BinaryPrimitives.ReadInt32BigEndian(_header);
            if (length is < 0 or > MaxFrame) throw new InvalidDataException($"a frame of {length} bytes is out of range (0 to {MaxFrame})");
            _remaining = length; // 0: a ping
        }
        return to;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return;
        var frame = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length, WriteFrame - HeaderLength) + HeaderLength);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            while (!buffer.IsEmpty)
            {
                var chunk = buffer[..Math.Min(buffer.Length, WriteFrame - HeaderLength)];
                BinaryPrimitives.WriteInt32BigEndian(frame, chunk.Length);
                chunk.CopyTo(frame.AsMemory(HeaderLength));
                await Inner.WriteAsync(frame.AsMemory(0, HeaderLength + chunk.Length), cancellationToken);
                buffer = buffer[chunk.Length..];
            }
            await Inner.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async ValueTask WritePingAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await Inner.WriteAsync(PingFrame, cancellationToken);
            await Inner.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task PingAsync(TimeSpan interval, TimeProvider time)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await WritePingAsync(_stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The connection is going away; the copy loops report why.
        }
    }

    /// <summary>No more payload: stop pinging (a ping after the inner TLS close_notify would be a write after shutdown)
    /// and half-close the inner stream; reading goes on.</summary>
    public async ValueTask CompleteWritesAsync()
    {
        if (IsDisposed) return;
        await _stop.CancelAsync();
        await _pinger;
        await DuplexPump.HalfCloseAsync(Inner);
    }

    protected override async ValueTask DisposeInnerAsync()
    {
        await _stop.CancelAsync();
        await _pinger;
        _stop.Dispose();
        _writeLock.Dispose();
        await Inner.DisposeAsync();
    }

    protected override void DisposeInner()
    {
        _stop.Cancel();
        Inner.Dispose();
    }
}
