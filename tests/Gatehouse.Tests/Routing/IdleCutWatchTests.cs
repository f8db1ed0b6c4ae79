using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Gatehouse.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Routing;

/// <summary>Real WebSockets over loopback TCP, a fake clock for the idle time: a cut is reported only when it looks like a
/// balancer's idle timeout, never on a close handshake or after a silence longer than the ping interval.</summary>
public sealed class IdleCutWatchTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(2, true)]    // idle 2 s, pings every 30 s: what nginx proxy_read_timeout 2s does
    [InlineData(0, false)]   // dropped mid-conversation: some other fault
    [InlineData(31, false)]  // idle past a ping: pings were flowing, so not an idle timeout
    public async Task A_connection_dropped_without_a_close_is_reported_only_after_an_idle_shorter_than_the_ping_interval(int idleSeconds, bool reported)
    {
        await using var pair = await Pair.OpenAsync();
        var seen = new List<TimeSpan>();
        await using var watch = new IdleCutWatch(WebSocketStream.Create(pair.Client, WebSocketMessageType.Binary, TimeSpan.FromSeconds(5)), pair.Client,
            Interval, pair.Time, seen.Add);
        await pair.Server.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        Assert.Equal(5, await watch.ReadAsync(new byte[16]));
        pair.Time.Advance(TimeSpan.FromSeconds(idleSeconds));

        pair.ServerSocket.LingerState = new LingerOption(true, 0);
        pair.ServerSocket.Dispose(); // no close frame: the balancer dropped the connection
        await Assert.ThrowsAnyAsync<Exception>(async () => { while (await watch.ReadAsync(new byte[16]) > 0) { } });

        Assert.Equal(reported ? [TimeSpan.FromSeconds(idleSeconds)] : [], seen);
    }

    [Fact]
    public async Task A_close_handshake_after_an_idle_is_a_normal_end_and_reports_nothing()
    {
        await using var pair = await Pair.OpenAsync();
        var seen = new List<TimeSpan>();
        await using var watch = new IdleCutWatch(WebSocketStream.Create(pair.Client, WebSocketMessageType.Binary, TimeSpan.FromSeconds(5)), pair.Client,
            Interval, pair.Time, seen.Add);
        pair.Time.Advance(TimeSpan.FromSeconds(2));
        var closing = pair.Server.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        Assert.Equal(0, await watch.ReadAsync(new byte[16]));
        await watch.DisposeAsync();
        await closing;
        Assert.Empty(seen);
    }

    private sealed class Pair : IAsyncDisposable
    {
        public required WebSocket Client { get; init; }
        public required WebSocket Server { get; init; }
        public required Socket ServerSocket { get; init; }
        public required Socket ClientSocket { get; init; }
        public FakeTimeProvider Time { get; } = new();

        public static async Task<Pair> OpenAsync()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var accepting = listener.AcceptSocketAsync();
            await client.ConnectAsync(listener.LocalEndpoint);
            var server = await accepting;
            return new Pair
            {
                ClientSocket = client,
                ServerSocket = server,
                Client = WebSocket.CreateFromStream(new NetworkStream(client, ownsSocket: false), isServer: false, null, Timeout.InfiniteTimeSpan),
                Server = WebSocket.CreateFromStream(new NetworkStream(server, ownsSocket: false), isServer: true, null, Timeout.InfiniteTimeSpan),
            };
        }

        public ValueTask DisposeAsync()
        {
            Client.Dispose();
            Server.Dispose();
            ClientSocket.Dispose();
            ServerSocket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
