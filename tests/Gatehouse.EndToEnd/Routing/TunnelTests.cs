using Gatehouse.Testing;
using System.Security.Cryptography;

namespace Gatehouse.EndToEnd.Routing;

/// <summary>
/// `gatehouse proxy app echo` against the one TLS port directly and through real balancers: which route detection
/// picks (`diag tunnel`), that bytes flow both ways (a short message and 1 MiB), and that closing the local socket
/// ends the connection end to end (the -v "closed" line, with every byte counted and no error).
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class TunnelTests(RoutingCluster cluster)
{
    /// <summary>"hello through gatehouse\n" and 1 MiB: what <see cref="EchoCheck.SmallAndBulkAsync"/> sends and gets back.</summary>
    private const int EchoedBytes = 24 + 1024 * 1024;

    private static readonly TimeSpan CloseDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Direct_detection_says_direct_and_echo_flows_and_closing_ends_the_connection()
    {
        using var client = await cluster.LoggedInClientAsync(cluster.Proxy.Address, "direct-user");

        var diag = await RoutingCluster.DiagAsync(client, cluster.Proxy.Address);
        Assert.Equal("direct", diag.GetProperty("decision").GetString());
        Assert.False(diag.GetProperty("alpn_stripped").GetBoolean(), diag.ToString());

        await EchoAndCloseAsync(client, cluster.Proxy.Address, "Direct");
    }

    [Fact]
    public async Task Nginx_passing_websocket_upgrades_is_detected_and_tunnelled_and_closing_ends_the_connection()
    {
        var nginx = $"127.0.0.1:{cluster.NginxL7Port}";
        using var client = await cluster.LoggedInClientAsync(nginx, "nginx-user");

        var diag = await RoutingCluster.DiagAsync(client, nginx);
        Assert.Equal("tunnel", diag.GetProperty("decision").GetString());
        Assert.Equal("websocket", diag.GetProperty("upgrade").GetString());

        await EchoAndCloseAsync(client, nginx, "WebSocket");

        // The Prometheus names dashboards use, as the hand-written exporter wrote them (OpenTelemetry may add labels).
        var metrics = (await Peer.RunAsync("curl", "-sS", "--cacert", cluster.HostCa, $"https://127.0.0.1:{cluster.Proxy.Port}/metrics")).EnsureSuccess("curl /metrics").Stdout;
        Assert.Contains("# TYPE gatehouse_connections_total counter", metrics);
        Assert.Contains("# TYPE gatehouse_tunnels_open gauge", metrics);
        Assert.Contains("# TYPE gatehouse_bytes_total counter", metrics);
        Assert.Matches(@"gatehouse_connections_total\{[^}]*route=""tunnel""[^}]*\} [1-9]", metrics);
        Assert.Matches(@"gatehouse_tunnels_open\{[^}]*kind=""websocket""[^}]*\} \d", metrics);
        Assert.Matches(@"gatehouse_bytes_total\{[^}]*direction=""in""[^}]*\} [1-9]", metrics);
    }

    [Fact]
    public async Task Nginx_passes_the_raw_upgrade_too()
    {
        var nginx = $"127.0.0.1:{cluster.NginxL7Port}";
        using var client = await cluster.LoggedInClientAsync(nginx, "raw-user", new Dictionary<string, string> { ["GATEHOUSE_TUNNEL_MODE"] = "raw" });

        await EchoAndCloseAsync(client, nginx, "RawUpgrade");
    }

    [Fact]
    public async Task Haproxy_in_http_mode_is_detected_and_tunnelled()
    {
        var haproxy = $"127.0.0.1:{cluster.HaproxyPort}";
        using var client = await cluster.LoggedInClientAsync(haproxy, "haproxy-user");

        var diag = await RoutingCluster.DiagAsync(client, haproxy);
        Assert.Equal("tunnel", diag.GetProperty("decision").GetString());
        Assert.Equal("websocket", diag.GetProperty("upgrade").GetString());

        await EchoAndCloseAsync(client, haproxy, "WebSocket");
    }

    [Fact]
    public async Task Nginx_stream_passthrough_stays_direct()
    {
        var stream = $"127.0.0.1:{cluster.NginxStreamPort}";
        using var client = await cluster.LoggedInClientAsync(stream, "stream-user");

        var diag = await RoutingCluster.DiagAsync(client, stream);
        Assert.Equal("direct", diag.GetProperty("decision").GetString());
        Assert.False(diag.GetProperty("alpn_stripped").GetBoolean(), diag.ToString());

        await EchoAndCloseAsync(client, stream, "Direct");
    }

    [Theory]
    [InlineData("websocket", "the balancer answered 426 Upgrade Required: it does not pass WebSocket upgrades on /v1/tunnel")]
    [InlineData("raw", "the balancer answered 426 Upgrade Required: it does not pass raw (Upgrade: gatehouse-tls) upgrades on /v1/tunnel")]
    public async Task Nginx_that_drops_upgrades_gets_a_sentence_naming_the_status(string mode, string sentence)
    {
        // nginx without Upgrade/Connection headers talks HTTP/1.0 to Gatehouse, which then sees a plain GET and
        // answers 426; nginx hands that back. The client must say so, not hang or reset.
        var nginx = $"127.0.0.1:{cluster.NginxNoUpgradePort}";
        using var client = await cluster.LoggedInClientAsync(nginx, $"no-upgrade-{mode}",
            new Dictionary<string, string> { ["GATEHOUSE_TUNNEL"] = "always", ["GATEHOUSE_TUNNEL_MODE"] = mode });
        await using var forward = await LocalForward.StartAsync(client, "echo", nginx);

        using (var socket = await forward.ConnectAsync())
        {
            // The connection is closed once the dial failed: a read ends instead of hanging.
            using var timeout = new CancellationTokenSource(EchoCheck.Deadline);
            Assert.Equal(0, await socket.GetStream().ReadAsync(new byte[16], timeout.Token));
        }
        var line = forward.Output.Split('\n').FirstOrDefault(l => l.StartsWith("gatehouse: connection 1 from ", StringComparison.Ordinal));
        Assert.True(line is not null, forward.Output);
        Assert.Contains(sentence, line);
        Assert.False(forward.HasExited, forward.Output); // one failed dial does not end the forward
    }

    [Fact]
    public async Task An_idle_tunnel_outlives_the_balancers_read_timeout_by_the_proxys_pings()
    {
        var nginx = $"127.0.0.1:{cluster.NginxIdlePort}";
        using var client = await cluster.LoggedInClientAsync(nginx, "idle-user");
        await using var forward = await LocalForward.StartAsync(client, "echo", nginx);
        using var socket = await forward.ConnectAsync();
        var stream = socket.GetStream();
        await EchoCheck.RoundTripAsync(stream, "before the pause\n"u8.ToArray());
        Assert.Contains("connection 1 from 127.0.0.1", forward.Output);
        Assert.Contains("connected to 'echo' (WebSocket)", forward.Output);

        // Idling is what is tested: nginx cuts an upstream that says nothing for 3 s (proxy_read_timeout), and the
        // proxy pings every 1 s (proxy.ping_interval). 10 s of silence is three timeouts' worth.
        await Task.Delay(TimeSpan.FromSeconds(10));

        Assert.DoesNotContain("connection 1 closed", forward.Output);
        await EchoCheck.RoundTripAsync(stream, RandomNumberGenerator.GetBytes(64 * 1024));
    }

    /// <summary>Forwards a local port, echoes small and bulk over one connection, closes it, and expects the -v lines:
    /// connected by <paramref name="route"/>, then closed with every byte counted each way and no error.</summary>
    private static async Task EchoAndCloseAsync(ClientMachine client, string proxy, string route)
    {
        await using var forward = await LocalForward.StartAsync(client, "echo", proxy);
        using (var socket = await forward.ConnectAsync())
        {
            await EchoCheck.SmallAndBulkAsync(socket.GetStream());
        }
        var closed = await forward.WaitForClosedAsync(1, CloseDeadline);
        Assert.Contains($"connected to 'echo' ({route})", forward.Output);
        Assert.Equal($"connection 1 closed: {EchoedBytes} bytes sent, {EchoedBytes} received", closed);
    }
}
