using System.Text.Json;

namespace Gatehouse.EndToEnd.Routing;

/// <summary>
/// The address audited for a tunnelled dial is the client's as proxy.trusted_proxies allows it to be known
/// (ARCHITECTURE §4): X-Forwarded-For is believed only from a trusted peer, walked from the right past trusted hops.
/// trusted_proxies is 127.0.0.2/32 and 127.0.0.3/32; the client and the single balancer connect from 127.0.0.1.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class ClientAddressTests(RoutingCluster cluster)
{
    [Fact]
    public async Task Forwarded_for_from_an_untrusted_balancer_does_not_change_the_audited_address()
    {
        // nginx connects from 127.0.0.1 (not trusted) with "X-Forwarded-For: 198.51.100.7, 127.0.0.1".
        var audited = await DialThroughAsync(cluster.NginxForgingPort, "xff-untrusted");

        Assert.Equal("127.0.0.1", audited.GetProperty("source_ip").GetString());
    }

    [Fact]
    public async Task Two_trusted_hops_give_the_address_the_first_hop_saw()
    {
        // client (127.0.0.1) → nginx → (from 127.0.0.2) HAProxy → (from 127.0.0.3) Gatehouse. Gatehouse receives
        //   X-Forwarded-For: 198.51.100.7, 127.0.0.1   (nginx: a made-up entry as if the client sent it, then the client)
        //   X-Forwarded-For: 127.0.0.2                 (HAProxy: the address it saw)
        // from peer 127.0.0.3. Walking from the right: 127.0.0.3 and 127.0.0.2 are trusted, 127.0.0.1 is not, so it is
        // the client. Every wrong reading gives another answer: the peer (127.0.0.3), one hop only (127.0.0.2), the
        // leftmost entry (198.51.100.7).
        var audited = await DialThroughAsync(cluster.NginxFirstHopPort, "xff-two-hops");

        Assert.Equal("127.0.0.1", audited.GetProperty("source_ip").GetString());
    }

    /// <summary>Logs in through the balancer on <paramref name="port"/>, echoes once over `proxy app` (a WebSocket tunnel),
    /// and returns the one access.decision audit event of <paramref name="user"/>.</summary>
    private async Task<JsonElement> DialThroughAsync(int port, string user)
    {
        var balancer = $"127.0.0.1:{port}";
        using var client = await cluster.LoggedInClientAsync(balancer, user);
        await using (var forward = await LocalForward.StartAsync(client, "echo", balancer))
        using (var socket = await forward.ConnectAsync())
        {
            await EchoCheck.RoundTripAsync(socket.GetStream(), "who am I\n"u8.ToArray());
            Assert.Contains("connected to 'echo' (WebSocket)", forward.Output);
        }
        var audited = Assert.Single(await cluster.Proxy.AuditAsync("--type", "access.decision", "--user", user));
        Assert.Equal("allowed", audited.GetProperty("decision").GetString());
        Assert.Equal("websocket", audited.GetProperty("details").GetProperty("arrival").GetString());
        return audited;
    }
}
