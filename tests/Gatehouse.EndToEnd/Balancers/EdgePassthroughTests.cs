using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// Gatehouse behind <c>gatehouse edge</c> in passthrough mode (issue 20), the edge's target group being Gatehouse's TLS
/// port (HTTPS, host CA, gatehouse.internal): the forwarded-certificate identity, a <c>gatehouse proxy app</c> tunnel and
/// plain kubectl all go through it, as through the nginx front beside it.
/// </summary>
[Collection(HttpListenCollection.Name)]
public sealed class EdgePassthroughTests(HttpListenCluster cluster)
{
    [Fact]
    public async Task Whoami_through_the_edge_is_the_forwarded_certificates_user_and_forged_headers_do_not_count()
    {
        var forged = await Peer.RunAsync("curl", "-sS", "--max-time", "20", "--cacert", cluster.BalancerCa, "-H", "X-Amzn-Mtls-Clientcert: forged",
            $"https://127.0.0.1:{cluster.EdgePort}/v1/whoami");
        Assert.Contains("NoClientCertificate", forged.Stdout, StringComparison.Ordinal);

        var result = (await Peer.RunAsync("curl", "-sS", "--max-time", "20", "--cacert", cluster.BalancerCa, "--cert", cluster.Alice.Certificate,
            "--key", cluster.Alice.Key, $"https://127.0.0.1:{cluster.EdgePort}/v1/whoami")).EnsureSuccess("curl through the edge");
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("alice", json.RootElement.GetProperty("user").GetString());
        Assert.Equal("forwarded-header", json.RootElement.GetProperty("source").GetString());
        Assert.Equal(HttpListenCluster.Front, json.RootElement.GetProperty("front").GetString());
        Assert.Equal(cluster.Alice.Serial, json.RootElement.GetProperty("serial").GetString(), ignoreCase: true);
        Assert.Contains(" Success TID_", await cluster.Edge.ConnectionLineAsync("CN=alice"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gatehouse_client_tunnels_an_app_through_the_edge()
    {
        var edge = $"127.0.0.1:{cluster.EdgePort}";
        var identity = Path.GetDirectoryName(cluster.Alice.Certificate)!;
        using var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = cluster.BalancerCa, ["GATEHOUSE_TUNNEL"] = "always" });
        var login = await client.Cli.RunAsync("login", "--proxy", edge, "--identity", identity, "--ca", cluster.HostCa);
        Assert.True(login.ExitCode == 0, login.Output);

        await using var forward = await Gatehouse.EndToEnd.Routing.LocalForward.StartAsync(client, "echo", edge);
        using (var socket = await forward.ConnectAsync())
        {
            await Gatehouse.EndToEnd.Routing.EchoCheck.SmallAndBulkAsync(socket.GetStream());
        }
        await forward.WaitForClosedAsync(1, TimeSpan.FromSeconds(30));
        Assert.Contains("connected to 'echo' (WebSocket)", forward.Output);
    }

    [Fact]
    public async Task Plain_kubectl_goes_through_the_edge_to_gatehouse_to_the_kubernetes_api()
    {
        var before = cluster.KubeApi.Seen.Count;
        var result = await cluster.KubectlGetPodsAsync(cluster.EdgePort);
        Assert.True(result.ExitCode == 0, result.Output + cluster.Edge.Output);
        Assert.Contains(Gatehouse.EndToEnd.Kube.KubeApiStandIn.ListedPod, result.Stdout, StringComparison.Ordinal);
        var seen = cluster.KubeApi.Seen.Skip(before).ToList();
        Assert.NotEmpty(seen);
        Assert.All(seen, r => Assert.Equal(["alice"], r.ImpersonateUser));
    }
}
