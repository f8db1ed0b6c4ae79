using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>Plain kubectl 1.32 <c>logs</c> and <c>logs -f</c> through Gatehouse's /kube/NAME/ path, straight and through
/// nginx playing an mTLS ALB. The far end is <see cref="KubeApiStandIn"/>, whose follow writes one line after a pause and
/// then keeps the response open: kubectl printing that line while it still runs shows the response streams through
/// Gatehouse unbuffered.</summary>
[Collection(KubeAccessCollection.Name)]
public sealed class KubectlLogsTests(KubeAccessCluster cluster)
{
    private const string LogPath = $"/api/v1/namespaces/default/pods/{KubeApiStandIn.ListedPod}/log";

    [Fact]
    public async Task Kubectl_logs_prints_the_log_and_the_api_server_sees_alice_impersonated()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "logs", KubeApiStandIn.ListedPod);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(string.Concat(KubeApiStandIn.LogLines.Select(l => l + "\n")), result.Stdout);
        var log = Assert.Single(cluster.Api.Seen.Skip(before), r => r.Path == LogPath);
        Assert.DoesNotContain("follow=true", log.Query, StringComparison.Ordinal);
        Assert.Equal(["alice"], log.ImpersonateUser);
        Assert.Equal(["developers", "viewers"], log.ImpersonateGroup);
        Assert.Empty(log.OtherImpersonate);
    }

    [Fact]
    public async Task Kubectl_logs_tail_and_timestamps_reach_the_api_server_as_query_parameters()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "logs", "--tail=1", "--timestamps", "-c", "web", KubeApiStandIn.ListedPod);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches($@"^\S+Z {KubeApiStandIn.LogLines[^1]}\n$", result.Stdout);
        var log = Assert.Single(cluster.Api.Seen.Skip(before), r => r.Path == LogPath);
        Assert.Contains("tailLines=1", log.Query, StringComparison.Ordinal);
        Assert.Contains("timestamps=true", log.Query, StringComparison.Ordinal);
        Assert.Contains("container=web", log.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubectl_logs_f_prints_the_line_written_later_while_the_stream_stays_open()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);

        await FollowAsync(env, "straight at the proxy");
    }

    [Fact]
    public async Task Through_an_mTLS_balancer_kubectl_logs_f_prints_the_line_written_later_while_the_stream_stays_open()
    {
        var env = await cluster.KubeconfigAsync(cluster.AlbServer, cluster.BalancerCa, cluster.AliceCorp);

        await FollowAsync(env, "through the balancer");
    }

    /// <summary>kubectl logs -f: the earlier lines, then the one the stand-in writes after its pause, with kubectl still
    /// running (the response has not ended); the API server saw a follow as alice.</summary>
    private async Task FollowAsync(Dictionary<string, string> env, string way)
    {
        var before = cluster.Api.Seen.Count;

        await using var kubectl = BackgroundProcess.Start(Peer.Require("kubectl"), ["logs", "-f", KubeApiStandIn.ListedPod], env);

        // A proxy that buffered the response would never deliver it: the stand-in does not end a follow.
        await kubectl.WaitForOutputAsync(KubeApiStandIn.FollowedLogLine, TimeSpan.FromSeconds(30));
        Assert.All(KubeApiStandIn.LogLines, line => Assert.Contains(line, kubectl.Output, StringComparison.Ordinal));
        Assert.False(kubectl.HasExited, $"{way}: kubectl logs -f should keep following\n{kubectl.Output}{cluster.Nginx.Output}");
        var log = Assert.Single(cluster.Api.Seen.Skip(before), r => r.Path == LogPath);
        Assert.Contains("follow=true", log.Query, StringComparison.Ordinal);
        Assert.Equal(["alice"], log.ImpersonateUser);
        Assert.Equal(["developers", "viewers"], log.ImpersonateGroup);
    }
}
