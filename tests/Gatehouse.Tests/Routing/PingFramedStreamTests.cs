using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Routing;
using Gatehouse.Testing.Fuzzing;

namespace Gatehouse.Tests.Routing;

/// <summary>PingFramedStream over a real loopback socket pair: a half-close reaches the peer as the end of the stream,
/// pings stop, and the way back stays open (what lets DuplexPump end a tunnelled connection cleanly).</summary>
public sealed class PingFramedStreamTests
{
    [Fact]
    public async Task Completing_writes_ends_the_peers_reading_and_keeps_reading_open()
    {
        var (near, far) = await SocketPairAsync();
        await using var framed = new PingFramedStream(near, TimeSpan.FromMilliseconds(10));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await framed.WriteAsync("data"u8.ToArray(), timeout.Token);
        await framed.CompleteWritesAsync();

        // The peer reads pings (zero-length frames) and the one frame, then the end: nothing after the half-close.
        var seen = new MemoryStream();
        var buffer = new byte[256];
        int read;
        while ((read = await far.ReadAsync(buffer, timeout.Token)) > 0) seen.Write(buffer, 0, read);
        var bytes = seen.ToArray();
        var payload = new List<byte>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            payload.AddRange(bytes.AsSpan(at + 4, length).ToArray());
            at += 4 + length;
        }
        Assert.Equal("data"u8.ToArray(), payload);

        // The other direction still works.
        var frame = new byte[4 + 4];
        BinaryPrimitives.WriteInt32BigEndian(frame, 4);
        "back"u8.CopyTo(frame.AsSpan(4));
        await far.WriteAsync(frame, timeout.Token);
        far.Socket.Shutdown(SocketShutdown.Send);
        var back = new byte[4];
        await framed.ReadExactlyAsync(back, timeout.Token);
        Assert.Equal("back"u8.ToArray(), back);
        Assert.Equal(0, await framed.ReadAsync(new byte[1], timeout.Token));
        await far.DisposeAsync();
    }

    [Fact]
    public async Task Writes_frames_that_fit_one_record_and_reads_them_back_in_any_pieces()
    {
        // Three writes (the middle one 100 KB, as a pump's full buffer is), with pings between, as one peer sends them.
        var sent = new WriteSizes();
        var data = new byte[100_000];
        new Random(17).NextBytes(data);
        var writer = new PingFramedStream(sent, null);
        await writer.WriteAsync("first"u8.ToArray());
        sent.Write(new byte[8]); // two pings
        await writer.WriteAsync(data);
        sent.Write(new byte[4]);
        await writer.WriteAsync("last"u8.ToArray());
        var wire = sent.ToArray();

        // Each write fits one TLS record with room for the tunnel's own overhead (issue 17); a frame is a few of them.
        Assert.All(sent.Sizes, size => Assert.InRange(size, 1, PingFramedStream.WriteRecord));
        var frames = 0;
        for (var at = 0; at < wire.Length; frames++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(wire.AsSpan(at));
            Assert.InRange(length, 0, PingFramedStream.MaxFrame);
            at += 4 + length;
        }
        // Two small writes, three pings, and the 100 KB in frames of at most MaxFrame payload bytes.
        Assert.Equal(2 + 3 + (data.Length + PingFramedStream.MaxFrame - 1) / PingFramedStream.MaxFrame, frames);

        // Read back through odd pieces (1 byte, a few, a few hundred, or all) and odd buffer sizes: headers split
        // across reads, pings between frames.
        byte[] expected = [.. "first"u8, .. data, .. "last"u8];
        for (var seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            var reader = new PingFramedStream(new ChunkedReadStream(wire, random), null);
            var got = new MemoryStream();
            var buffer = new byte[random.Next(1, 70_000)];
            for (int read; (read = await reader.ReadAsync(buffer)) > 0;) got.Write(buffer, 0, read);
            Assert.Equal(expected, got.ToArray());
        }
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_frame_or_its_header_is_an_error()
    {
        var sent = new MemoryStream();
        await new PingFramedStream(sent, null).WriteAsync(new byte[10]);
        var wire = sent.ToArray();
        var insideFrame = new PingFramedStream(new MemoryStream(wire[..^3]), null);
        var buffer = new byte[64];
        await Assert.ThrowsAsync<EndOfStreamException>(async () => { while (await insideFrame.ReadAsync(buffer) > 0) { } });
        var insideHeader = new PingFramedStream(new MemoryStream([.. wire, 0, 0]), null);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => { while (await insideHeader.ReadAsync(buffer) > 0) { } });
        var tooLong = new PingFramedStream(new MemoryStream([0, 2, 0, 0, 1]), null);
        await Assert.ThrowsAsync<InvalidDataException>(async () => _ = await tooLong.ReadAsync(buffer));
    }

    /// <summary>Records the size of each write.</summary>
    private sealed class WriteSizes : MemoryStream
    {
        public List<int> Sizes { get; } = [];

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Sizes.Add(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    private static async Task<(NetworkStream Near, NetworkStream Far)> SocketPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptSocketAsync();
        await client.ConnectAsync(listener.LocalEndpoint);
        return (new NetworkStream(client, ownsSocket: true), new NetworkStream(await accepting, ownsSocket: true));
    }
}
