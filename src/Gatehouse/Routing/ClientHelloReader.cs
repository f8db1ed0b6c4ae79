using System.Buffers;

namespace Gatehouse.Routing;

/// <summary>
/// Reads a ClientHello off a stream (a tunnelled connection, ARCHITECTURE §4) with a size cap and a deadline, keeping
/// every byte read so the caller can replay them with <see cref="PrefixedStream"/>.
/// </summary>
internal static class ClientHelloReader
{
    private const int InitialBufferSize = 2048; // most ClientHellos fit; post-quantum key shares push some past 1.5 KiB

    /// <summary>
    /// Reads until <see cref="ClientHelloParser"/> has an answer, the peer closes (<see cref="ClientHelloStatus.Closed"/>)
    /// or <paramref name="timeout"/> passes (<see cref="ClientHelloStatus.TimedOut"/>). Cancelling
    /// <paramref name="cancellationToken"/> throws, as for any caller cancellation.
    /// </summary>
    /// <returns>
    /// The parse, and <c>Buffered[..Length]</c>: every byte read, possibly more than the ClientHello. <c>Buffered</c> is
    /// rented from <see cref="ArrayPool{T}.Shared"/> (or empty): return it, or hand it to a <see cref="PrefixedStream"/>
    /// with that pool.
    /// </returns>
    public static async ValueTask<(ClientHelloParse Hello, byte[] Buffered, int Length)> ReadAsync(
        Stream stream, int maxBytes, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var pool = ArrayPool<byte>.Shared;
        byte[] buffer = [];
        var length = 0;
        var scan = default(ClientHelloScan);
        try
        {
            // A zero-byte read waits for data without holding a buffer (STYLE habit 3). Streams that cannot wait that
            // way return 0 at once, which is no end of stream here: the real read below tells.
            _ = await stream.ReadAsync(Memory<byte>.Empty, linked.Token);
            buffer = pool.Rent(Math.Min(InitialBufferSize, maxBytes));
            while (true)
            {
                var capacity = Math.Min(buffer.Length, maxBytes);
                if (length == capacity)
                {
                    // The parser answers TooLarge by maxBytes at the latest; this only guards the loop.
                    if (length >= maxBytes) return (TooLarge(maxBytes), buffer, length);
                    var larger = pool.Rent(Math.Min(buffer.Length * 2, maxBytes));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                    capacity = Math.Min(buffer.Length, maxBytes);
                }
                // Each read awaits at least one byte, so a peer sending one byte at a time costs one read per byte and
                // the scan state keeps each call to the parser to the new records: no spinning, no re-parsing.
                var read = await stream.ReadAsync(buffer.AsMemory(length, capacity - length), linked.Token);
                if (read == 0)
                    return (ClientHelloParse.Failed(ClientHelloStatus.Closed, "the peer closed the connection before a whole ClientHello"), buffer, length);
                length += read;
                var hello = ClientHelloParser.TryParse(new ReadOnlySequence<byte>(buffer, 0, length), maxBytes, ref scan);
                if (hello.IsFinal) return (hello, buffer, length);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (ClientHelloParse.Failed(ClientHelloStatus.TimedOut, $"no whole ClientHello within {timeout.TotalSeconds:0.###} s"), buffer, length);
        }
        catch (IOException e)
        {
            // A reset is ordinary traffic, not a bug: report it as a value (STYLE habit 2).
            return (ClientHelloParse.Failed(ClientHelloStatus.Closed, $"the connection failed: {e.Message}"), buffer, length);
        }
        catch
        {
            if (buffer.Length > 0) pool.Return(buffer);
            throw;
        }
    }

    private static ClientHelloParse TooLarge(int maxBytes) =>
        ClientHelloParse.Failed(ClientHelloStatus.TooLarge, $"the ClientHello does not fit in {maxBytes} bytes");
}
