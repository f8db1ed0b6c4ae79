using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;

namespace Gatehouse.Routing;

/// <summary>The bytes each way of a finished pump, and the first failure (null when both sides ended cleanly).</summary>
internal sealed record PumpResult(long LeftToRight, long RightToLeft, Exception? Failure);

/// <summary>
/// Copies two streams into each other until both directions end (STYLE habit 4). A clean end of one direction is
/// passed on as a half-close where the other stream can express it, and the other direction goes on; the first
/// failure wins, cancels the other direction, which is awaited. Buffers are pooled and rented only once data is
/// ready (a zero-byte read waits first), so idle tunnels hold no buffer; a direction whose reads fill the buffer moves
/// to a larger one until it next waits.
/// </summary>
internal static class DuplexPump
{
    private const int BufferSize = 16 * 1024;
    private const int MaxBufferSize = 64 * 1024;

    /// <param name="observeLeftToRight">Sees each chunk from <paramref name="left"/> before it is written on (a protocol's
    /// auditor); what it throws ends the pump as a failure.</param>
    public static async Task<PumpResult> RunAsync(Stream left, Stream right, CancellationToken cancellationToken,
        IByteObserver? observeLeftToRight = null)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Counted as the bytes go, so that a pump that was cancelled or failed still reports what it moved.
        var counted = new long[2];
        var toRight = CopyAsync(left, right, counted, 0, linked.Token, observeLeftToRight);
        var toLeft = CopyAsync(right, left, counted, 1, linked.Token, null);
        Exception? failure = null;
        var first = await Task.WhenAny(toRight, toLeft);
        if (first.IsFaulted || first.IsCanceled)
        {
            failure = first.Exception?.GetBaseException() ?? new OperationCanceledException();
            await linked.CancelAsync();
        }
        try
        {
            await Task.WhenAll(toRight, toLeft);
        }
        catch (Exception e) when (failure is null)
        {
            failure = e is OperationCanceledException ? e : e.GetBaseException();
        }
        catch
        {
            // The first failure is the one reported.
        }
        return new PumpResult(counted[0], counted[1], failure);
    }

    /// <summary>One direction alone, as <see cref="RunAsync"/> copies each: until <paramref name="source"/> ends, then a
    /// half-close of <paramref name="destination"/>. For callers that must not wait for the other direction (a
    /// ProxyCommand's standard input cannot be cancelled). Throws what the copy failed with.</summary>
    public static Task CopyOneWayAsync(Stream source, Stream destination, CancellationToken cancellationToken) =>
        CopyAsync(source, destination, new long[1], 0, cancellationToken, null);

    private static async Task CopyAsync(Stream source, Stream destination, long[] counted, int direction, CancellationToken cancellationToken,
        IByteObserver? observer)
    {
        byte[]? buffer = null;
        var size = BufferSize;
        try
        {
            while (true)
            {
                // Wait for data without holding a buffer: only a direction that must wait gives its buffer back, so a
                // busy one keeps it (one rent per burst, not per chunk) and an idle one holds none.
                var ready = source.ReadAsync(Memory<byte>.Empty, cancellationToken);
                if (ready.IsCompletedSuccessfully)
                {
                    _ = ready.Result;
                }
                else
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }
                    size = BufferSize;
                    await ready;
                }
                buffer ??= ArrayPool<byte>.Shared.Rent(size);
                var read = await source.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    await HalfCloseAsync(destination);
                    return;
                }
                observer?.Observe(buffer.AsSpan(0, read));
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await destination.FlushAsync(cancellationToken);
                counted[direction] += read; // one writer per direction; read after both tasks have ended
                if (read == buffer.Length && size < MaxBufferSize)
                {
                    // A full read: data keeps flowing, so read more per call (fewer reads, writes and TLS records' worth
                    // of calls per megabyte) until this direction has to wait again.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                    size = MaxBufferSize;
                }
            }
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Tells the other side "no more data" without closing the way back.</summary>
    internal static async Task HalfCloseAsync(Stream stream)
    {
        try
        {
            switch (stream)
            {
                case NetworkStream network: network.Socket.Shutdown(SocketShutdown.Send); break;
                case SslStream tls: await tls.ShutdownAsync(); break;
                case IHalfClosable closable: await closable.CompleteWritesAsync(); break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer is gone already; the other direction will find out.
        }
    }
}

/// <summary>Sees the bytes of one direction of a <see cref="DuplexPump"/> as they pass, in order, without keeping them.</summary>
internal interface IByteObserver
{
    void Observe(ReadOnlySpan<byte> bytes);
}

/// <summary>A stream that can end its writing direction alone (a WebSocket close, a raw upgrade's socket).</summary>
internal interface IHalfClosable
{
    ValueTask CompleteWritesAsync();
}
