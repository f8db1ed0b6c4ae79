using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Routing;

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
