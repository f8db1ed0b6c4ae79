using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Routing;

/// <summary>
/// The one way a connection's first bytes are read (ARCHITECTURE §3): <see cref="PeekAsync"/> reads a ClientHello off a
/// <see cref="PipeReader"/> without consuming it — a Kestrel connection's input on the TLS port — with a size cap and a
/// deadline; <see cref="ReadAsync"/> does the same on a stream (a tunnel, ARCHITECTURE §4) and hands back every byte it
/// read so the caller can replay them with <see cref="PrefixedStream"/>.
/// </summary>
internal static class ClientHelloReader
{
    private const int StreamBufferSize = 2048; // most ClientHellos fit; post-quantum key shares push some past 1.5 KiB

    /// <summary>
    /// Reads until <see cref="ClientHelloParser"/> has an answer, the peer closes (<see cref="ClientHelloStatus.Closed"/>)
    /// or <paramref name="timeout"/> passes (<see cref="ClientHelloStatus.TimedOut"/>), consuming nothing: whoever reads
    /// <paramref name="input"/> next sees every byte. Cancelling <paramref name="cancellationToken"/> throws, as for any
    /// caller cancellation.
    /// </summary>
    public static async ValueTask<ClientHelloParse> PeekAsync(PipeReader input, int maxBytes, TimeSpan timeout, TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var scan = default(ClientHelloScan);
        try
        {
            while (true)
            {
                // Each read waits for bytes not yet examined, so a peer sending one byte at a time costs one read per byte,
                // and the scan state keeps each call to the parser to the new records: no spinning, no re-parsing.
                var read = await input.ReadAsync(linked.Token);
                var buffer = read.Buffer;
                var hello = ClientHelloParser.TryParse(buffer, maxBytes, ref scan);
                if (hello.IsFinal)
                {
                    input.AdvanceTo(buffer.Start); // nothing consumed, nothing examined
                    return hello;
                }
                input.AdvanceTo(buffer.Start, buffer.End); // examined all: the next read waits for new bytes
                if (read.IsCompleted)
                    return ClientHelloParse.Failed(ClientHelloStatus.Closed, "the peer closed the connection before a whole ClientHello");
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return ClientHelloParse.Failed(ClientHelloStatus.TimedOut, $"no whole ClientHello within {timeout.TotalSeconds:0.###} s");
        }
        catch (IOException e)
        {
            // A reset is ordinary traffic, not a bug: report it as a value (STYLE habit 2).
            return ClientHelloParse.Failed(ClientHelloStatus.Closed, $"the connection failed: {e.Message}");
        }
    }

    /// <summary>
    /// <see cref="PeekAsync"/> on a stream: the same answers, and nothing read from <paramref name="stream"/> is lost.
    /// </summary>
    /// <returns>
    /// The parse, and <c>Buffered[..Length]</c>: every byte read, possibly more than the ClientHello. <c>Buffered</c> is
    /// rented from <see cref="ArrayPool{T}.Shared"/> (or empty): return it, or hand it to a <see cref="PrefixedStream"/>
    /// with that pool.
    /// </returns>
    public static async ValueTask<(ClientHelloParse Hello, byte[] Buffered, int Length)> ReadAsync(
        Stream stream, int maxBytes, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        // The pipe reads the stream only when asked, one read at a time, so what it holds after the peek is exactly what
        // was read; that is taken out whole and the pipe let go, leaving the stream open.
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: StreamBufferSize, minimumReadSize: 1, leaveOpen: true));
        try
        {
            var hello = await PeekAsync(input, maxBytes, timeout, time, cancellationToken);
            if (!input.TryRead(out var held) || held.Buffer.IsEmpty) return (hello, [], 0);
            var length = (int)held.Buffer.Length;
            var buffered = ArrayPool<byte>.Shared.Rent(length);
            held.Buffer.CopyTo(buffered);
            input.AdvanceTo(held.Buffer.End);
            return (hello, buffered, length);
        }
        finally
        {
            await input.CompleteAsync();
        }
    }
}
