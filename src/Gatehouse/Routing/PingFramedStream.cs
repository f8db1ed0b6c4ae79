using System.Buffers;
using System.Buffers.Binary;

namespace Gatehouse.Routing;

/// <summary>
/// The framing of the <c>-ping</c> protocols (ARCHITECTURE §3): every write is a 4-byte big-endian length and the
/// payload; a zero length is a ping, dropped by the reader. Sending a ping every interval keeps idle-timeout
/// balancers from cutting a quiet connection. Reads return payload bytes only. A half-close (the pump's "no more
/// data") stops the pings and is passed on to the inner stream, so the peer's reader sees the end.
/// </summary>
internal sealed class PingFramedStream : ForwardingStream, IHalfClosable
{
    public const int MaxFrame = 64 * 1024;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[4];
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
        while (got < 4)
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
        while (!buffer.IsEmpty)
        {
            var chunk = buffer[..Math.Min(buffer.Length, MaxFrame)];
            await WriteFrameAsync(chunk, cancellationToken);
            buffer = buffer[chunk.Length..];
        }
    }

    private async ValueTask WriteFrameAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var frame = ArrayPool<byte>.Shared.Rent(payload.Length + 4);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
            payload.CopyTo(frame.AsMemory(4));
            await Inner.WriteAsync(frame.AsMemory(0, payload.Length + 4), cancellationToken);
            await Inner.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async Task PingAsync(TimeSpan interval, TimeProvider time)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await WriteFrameAsync(ReadOnlyMemory<byte>.Empty, _stop.Token);
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
