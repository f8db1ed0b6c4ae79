using Gatehouse.EndToEnd.Balancers;
using Gatehouse.EndToEnd.Routing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Faults;

/// <summary>
/// A balancer whose idle timeout is shorter than the ping interval (issue 18, item 5): nginx with proxy_read_timeout 2s
/// in front of a proxy and a client that both ping every 30 s (the defaults). The idle tunnel is cut, as it would be
/// in production, and both ends say so and name the settings to change. That pings below the timeout keep such a
/// tunnel is shown by TunnelTests.An_idle_tunnel_outlives_the_balancers_read_timeout_by_the_proxys_pings.
/// </summary>
public sealed class BalancerIdleTimeoutTests
{
    [Fact]
    public async Task An_idle_tunnel_cut_by_a_balancer_timeout_shorter_than_the_ping_interval_is_explained_on_both_ends()
    {
        using var echo = EchoServer.Start();
        await using var proxy = await ProxyUnderTest.StartAsync("idle-cut", ProxyFaultTests.TcpApp(echo.Port));
        await proxy.ApplyRoleAsync("dev", "allow:\n  app_labels: { env: dev }");
        var alice = await proxy.IssueAsync("alice", "--roles", "dev");
        var hostCa = await proxy.ExportHostCaAsync();
        await using var balancer = await PlainBalancer.StartAsync(proxy.Port, hostCa, readTimeout: "2s");
        using var client = await balancer.LoggedInClientAsync(alice.Certificate, hostCa);
        await using var forward = await LocalForward.StartAsync(client, "echo", balancer.Address);
        using var session = await forward.ConnectAsync();
        await EchoCheck.RoundTripAsync(session.GetStream(), "before the silence\n"u8.ToArray());
        Assert.Contains("(WebSocket)", forward.Output);

        // Silence from here: nothing is sent, and the first ping is 30 s away; nginx cuts the tunnel with no close.
        Assert.True(await ProxyFaultTests.EndsAsync(session.GetStream()), "the idle session was not cut by the balancer");
        await forward.WaitForOutputAsync("gatehouse: warning: the tunnel to", ProxyFaultTests.Deadline);
        await proxy.WaitForOutputAsync("was cut with no WebSocket close");

        var warning = forward.Output.Split('\n').First(l => l.Contains("gatehouse: warning: the tunnel to", StringComparison.Ordinal));
        Assert.Contains("s idle, before the next ping was due (every 30 s)", warning);
        Assert.Contains("GATEHOUSE_PING_INTERVAL", warning);
        Assert.Contains("nginx proxy_read_timeout", warning);
        var logged = proxy.Output.Split('\n').First(l => l.Contains("was cut with no WebSocket close", StringComparison.Ordinal));
        Assert.Contains("(proxy.ping_interval: 30 s)", logged);
        Assert.Contains("Lower proxy.ping_interval", logged);
        Assert.False(forward.HasExited, forward.Output); // one cut connection does not end the forward
    }
}
