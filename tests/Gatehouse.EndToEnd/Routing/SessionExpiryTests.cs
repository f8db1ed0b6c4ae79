using System.Text;

namespace Gatehouse.EndToEnd.Routing;

/// <summary>No session outlives the certificate it was allowed for: a TCP app connection opened with a short-lived
/// certificate is closed by the proxy when the certificate expires, though both ends would keep it open.</summary>
[Collection(RoutingCollection.Name)]
public sealed class SessionExpiryTests(RoutingCluster cluster)
{
    [Fact]
    public async Task A_tcp_app_connection_ends_when_its_certificate_expires()
    {
        using var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = cluster.BalancerCa });
        var identity = await cluster.Proxy.IssueAsync("short-lived", "--roles", "dev", "--ttl", "15s");
        (await client.Cli.RunAsync("login", "--proxy", cluster.Proxy.Address, "--identity", identity.Directory, "--ca", cluster.HostCa))
            .EnsureSuccess("login --identity");
        await using var forward = await LocalForward.StartAsync(client, "echo", cluster.Proxy.Address);

        using var socket = await forward.ConnectAsync();
        await EchoCheck.RoundTripAsync(socket.GetStream(), Encoding.ASCII.GetBytes("still valid\n"));

        // Nobody closes this connection: the echo server and this test would keep it forever. The proxy ends it, and the
        // local end reads the end of the stream (a half-close: `proxy app` keeps the way back open until the user closes).
        using var timeout = new CancellationTokenSource(EchoCheck.Deadline);
        Assert.Equal(0, await socket.GetStream().ReadAsync(new byte[16], timeout.Token));
        // The bytes moved before the end are counted though the pump was cut, not completed.
        // The proxy logs the end after closing the connection, so the line may follow the end of stream.
        await cluster.Proxy.WaitForOutputAsync("short-lived to tcp-app:echo ended after 12 bytes in, 12 bytes out (the certificate expired");
    }
}
