using System.Text.RegularExpressions;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Routing;

/// <summary>
/// `gatehouse proxy app` behind nginx with GATEHOUSE_TUNNEL_POOL=on keeps an upgraded tunnel ready (issue 17): nginx's own count of requests in
/// progress shows the ready tunnel open while no local connection exists, the next connection rides it (the -v line) and
/// echoes byte-exact, and the pool stays one ahead while it is open. With GATEHOUSE_TUNNEL_POOL=off (the default) nothing is kept.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed partial class TunnelPoolTests(RoutingCluster cluster)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_next_connection_rides_a_tunnel_nginx_already_holds_and_echoes_byte_exact()
    {
        var nginx = $"127.0.0.1:{cluster.NginxL7Port}";
        using var client = await cluster.LoggedInClientAsync(nginx, "pool-user", new Dictionary<string, string> { ["GATEHOUSE_TUNNEL_POOL"] = "on" });
        await using var forward = await LocalForward.StartAsync(client, "echo", nginx);
        using (var first = await forward.ConnectAsync()) await EchoCheck.SmallAndBulkAsync(first.GetStream());
        await forward.WaitForClosedAsync(1, Deadline);

        // No local connection is open, and nginx holds one upgraded request: the ready tunnel.
        await UntilTunnelsAtNginxAsync(1, forward);
        using (var second = await forward.ConnectAsync())
        {
            await EchoCheck.SmallAndBulkAsync(second.GetStream());
            Assert.Matches(ConnectedOverReady(2), forward.Output);
            await UntilTunnelsAtNginxAsync(2, forward); // the second connection's, and the one ready after it
        }
        await forward.WaitForClosedAsync(2, Deadline);
    }

    [Fact]
    public async Task With_the_pool_off_every_connection_opens_its_own_tunnel_and_none_stays()
    {
        var nginx = $"127.0.0.1:{cluster.NginxL7Port}";
        using var client = await cluster.LoggedInClientAsync(nginx, "no-pool-user", new Dictionary<string, string> { ["GATEHOUSE_TUNNEL_POOL"] = "off" });
        await using var forward = await LocalForward.StartAsync(client, "echo", nginx);
        using (var socket = await forward.ConnectAsync()) await EchoCheck.SmallAndBulkAsync(socket.GetStream());
        await forward.WaitForClosedAsync(1, Deadline);

        await UntilTunnelsAtNginxAsync(0, forward);
        Assert.Contains("connected to 'echo' (WebSocket)", forward.Output);
        Assert.DoesNotContain("over a ready tunnel", forward.Output);
    }

    /// <summary>Polls nginx's stub_status until the requests in progress, less the status request itself, are
    /// <paramref name="expected"/> (upgraded tunnels are requests in progress until they close).</summary>
    private async Task UntilTunnelsAtNginxAsync(int expected, LocalForward forward)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var until = DateTime.UtcNow + Deadline;
        var last = "";
        while (DateTime.UtcNow < until)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{cluster.NginxStatusPort}/status");
            request.Headers.ConnectionClose = true;
            using var response = await http.SendAsync(request);
            last = await response.Content.ReadAsStringAsync();
            var writing = int.Parse(Writing().Match(last).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (writing - 1 == expected) return;
            await Task.Delay(50);
        }
        Assert.Fail($"nginx never showed {expected} tunnel(s) open; last status:\n{last}\nforward:\n{forward.Output}");
    }

    private static Regex ConnectedOverReady(int connection) =>
        new($@"connection {connection} from 127\.0\.0\.1:\d+: connected to 'echo' \(WebSocket\) over a ready tunnel");

    [GeneratedRegex(@"Writing: (\d+)")]
    private static partial Regex Writing();
}
