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
/// Sized for the TLS under it (issue 17). Frames carry up to <see cref="MaxFrame"/> bytes, as before, but each write
/// to the inner stream is at most <see cref="WriteRecord"/> bytes, a TLS record's 16 KiB of plaintext less room for
/// the record's own overhead and a WebSocket frame header: through a tunnel, each inner record then rides in one outer
/// record, where a full 16 KiB record (16,406 bytes with its overhead) spilled a few dozen bytes into a second outer
/// record. Only the header and the first write's payload are copied (header and payload in one write, so one record);
/// the rest goes to the inner stream from the caller's memory. Frames keep their size so that the reader's reads
/// (bounded by a frame's end) are not cut into smaller pieces.
/// </remarks>
internal sealed class PingFramedStream : ForwardingStream, IHalfClosable
{
    public const int MaxFrame = 64 * 1024;
    /// <summary>The largest write to the inner stream: one TLS record, with room to spare (see remarks).</summary>
    public const int WriteRecord = 16 * 1024 - 64;
    private const int HeaderLength = 4;
    private static readonly byte[] PingFrame = new byte[HeaderLength]; // a zero length
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[HeaderLength];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pinger;
    private int _remaining; // payload bytes of the current frame not yet read

    public PingFramedStream(Stream inner, TimeSpan? pingInterval, TimeProvider? time = null) : base(inner)
    {
        _pinger = pingInterval is { } interval ? PingAsync(interval, time ?? TimeProvider.System) : Task.CompletedTask;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return await Inner.ReadAsync(buffer, cancellationToken);
        while (_remaining == 0)
        {
            if (!await TryReadHeaderAsync(cancellationToken)) return 0;
            var length = BinaryPrimitives.ReadInt32BigEndian(_header);
            if (length is < 0 or > MaxFrame) throw new InvalidDataException($"a frame of {length} bytes is out of range (0 to {MaxFrame})");
            _remaining = length; // 0: a ping, read the next header
        }
        var read = await Inner.ReadAsync(buffer[..Math.Min(buffer.Length, _remaining)], cancellationToken);
        if (read == 0) throw new EndOfStreamException("the connection closed inside a frame");
        _remaining -= read;
        return read;
    }

    private async ValueTask<bool> TryReadHeaderAsync(CancellationToken cancellationToken)
    {
        var got = 0;
        while (got < HeaderLength)
        {
            var read = await Inner.ReadAsync(_header.AsMemory(got), cancellationToken);
            if (read == 0)
                return got == 0 ? false : throw new EndOfStreamException("the connection closed inside a frame header");
            got += read;
        }
        return true;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return;
        // Only the header and the first record's worth of payload are copied (into one write, so one record); the rest
        // of the frame goes to the inner stream from the caller's memory, a record's worth per write.
        var first = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length, WriteRecord - HeaderLength) + HeaderLength);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            while (!buffer.IsEmpty)
            {
                var payload = buffer[..Math.Min(buffer.Length, MaxFrame)];
                BinaryPrimitives.WriteInt32BigEndian(first, payload.Length);
                var head = payload[..Math.Min(payload.Length, WriteRecord - HeaderLength)];
                head.CopyTo(first.AsMemory(HeaderLength));
                await Inner.WriteAsync(first.AsMemory(0, HeaderLength + head.Length), cancellationToken);
                for (var rest = payload[head.Length..]; !rest.IsEmpty;)
                {
                    var piece = rest[..Math.Min(rest.Length, WriteRecord)];
                    await Inner.WriteAsync(piece, cancellationToken);
                    rest = rest[piece.Length..];
                }
                buffer = buffer[payload.Length..];
            }
            await Inner.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
            ArrayPool<byte>.Shared.Return(first);
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
