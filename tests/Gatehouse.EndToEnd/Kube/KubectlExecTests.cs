using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>Plain kubectl 1.32 <c>exec</c> and <c>attach</c> (WebSocket upgrades, sub-protocol v5.channel.k8s.io) through
/// Gatehouse's /kube/NAME/ path, straight and through nginx playing an mTLS ALB; the far end is
/// <see cref="KubeApiStandIn"/>, which speaks the remote-command channel protocol and records the impersonation of the
/// upgrade request.</summary>
[Collection(KubeAccessCollection.Name)]
public sealed class KubectlExecTests(KubeAccessCluster cluster)
{
    private const string ExecPath = $"/api/v1/namespaces/default/pods/{KubeApiStandIn.ListedPod}/exec";

    [Fact]
    public async Task Kubectl_exec_echo_prints_the_output_and_the_api_server_sees_a_websocket_upgrade_as_alice()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "exec", KubeApiStandIn.ListedPod, "--", "echo", "hello");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal("hello\n", result.Stdout);
        var exec = Assert.Single(cluster.Api.Seen.Skip(before), r => r.Path == ExecPath);
        Assert.Equal("websocket", exec.Upgrade, ignoreCase: true);
        Assert.Contains("command=echo&command=hello", exec.Query, StringComparison.Ordinal);
        Assert.Equal(["alice"], exec.ImpersonateUser);
        Assert.Equal(["developers", "viewers"], exec.ImpersonateGroup);
        Assert.Empty(exec.OtherImpersonate);
    }

    [Fact]
    public async Task A_kubectl_exec_command_longer_than_8_KiB_reaches_the_api_server_and_its_output_comes_back()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);
        var word = string.Concat(Enumerable.Range(0, 2_000).Select(i => $"w{i:x4}")); // 10,000 characters in the query

        var result = await KubeAccessCluster.KubectlAsync(env, "exec", KubeApiStandIn.ListedPod, "--", "echo", word);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(word + "\n", result.Stdout);
    }

    [Fact]
    public async Task Kubectl_exec_i_cat_sends_stdin_and_gets_it_back_until_stdin_ends()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);

        // The stand-in's cat only finishes when kubectl closes stdin (the v5 close signal on channel 0) after its EOF.
        var result = await KubeAccessCluster.KubectlWithStdinAsync(env, "some text\n", "exec", "-i", KubeApiStandIn.ListedPod, "--", "cat");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal("some text\n", result.Stdout);
    }

    [Fact]
    public async Task A_nonzero_exit_code_reaches_kubectl_through_the_status_channel()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);

        var result = await KubeAccessCluster.KubectlAsync(env, "exec", KubeApiStandIn.ListedPod, "--", "false");

        Assert.Equal(1, result.ExitCode);
        Assert.True(result.Stderr.Contains("command terminated with exit code 1", StringComparison.Ordinal), result.Output);
    }

    [Fact]
    public async Task Kubectl_attach_i_sends_stdin_to_the_running_process_and_prints_its_output()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlWithStdinAsync(env, "attached\n", "attach", "-i", KubeApiStandIn.ListedPod);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("attached\n", result.Stdout, StringComparison.Ordinal);
        var attach = Assert.Single(cluster.Api.Seen.Skip(before), r => r.Path.EndsWith("/attach", StringComparison.Ordinal));
        Assert.Equal("websocket", attach.Upgrade, ignoreCase: true);
        Assert.Equal(["alice"], attach.ImpersonateUser);
    }

    [Fact]
    public async Task Through_an_mTLS_balancer_kubectl_exec_works_as_alice()
    {
        var env = await cluster.KubeconfigAsync(cluster.AlbServer, cluster.BalancerCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        var echo = await KubeAccessCluster.KubectlAsync(env, "exec", KubeApiStandIn.ListedPod, "--", "echo", "through", "the", "balancer");
        var cat = await KubeAccessCluster.KubectlWithStdinAsync(env, "some text\n", "exec", "-i", KubeApiStandIn.ListedPod, "--", "cat");

        Assert.True(echo.ExitCode == 0, echo.Output + cluster.Nginx.Output);
        Assert.Equal("through the balancer\n", echo.Stdout);
        Assert.True(cat.ExitCode == 0, cat.Output + cluster.Nginx.Output);
        Assert.Equal("some text\n", cat.Stdout);
        var execs = cluster.Api.Seen.Skip(before).Where(r => r.Path == ExecPath).ToList();
        Assert.Equal(2, execs.Count);
        Assert.All(execs, r =>
        {
            Assert.Equal("websocket", r.Upgrade, ignoreCase: true);
            Assert.Equal(["alice"], r.ImpersonateUser);
            Assert.Equal(["developers", "viewers"], r.ImpersonateGroup);
        });
    }

    [Fact]
    public async Task Through_an_mTLS_balancer_kubectl_get_pods_watch_prints_the_streamed_event()
    {
        var env = await cluster.KubeconfigAsync(cluster.AlbServer, cluster.BalancerCa, cluster.AliceCorp);

        await using var kubectl = BackgroundProcess.Start(Peer.Require("kubectl"), ["get", "pods", "-w"], env);

        await kubectl.WaitForOutputAsync(KubeApiStandIn.WatchedPod, TimeSpan.FromSeconds(30));
        Assert.Contains(KubeApiStandIn.ListedPod, kubectl.Output, StringComparison.Ordinal);
        Assert.False(kubectl.HasExited, kubectl.Output);
    }

    [Fact]
    public async Task A_SPDY_upgrade_request_reaches_the_api_server_with_its_Upgrade_header_and_alices_impersonation()
    {
        // kubectl falls back to SPDY when the WebSocket upgrade fails. The stand-in speaks no SPDY, so this shows only the
        // request half: Gatehouse passes the upgrade on (and the stand-in's refusal back), not that SPDY streams work.
        var before = cluster.Api.Seen.Count;

        var result = await Peer.RunAsync("curl", ["-sS", "--http1.1", "--max-time", "20", "-X", "POST", "--cert", cluster.AliceCorp.Certificate,
            "--key", cluster.AliceCorp.Key, "--cacert", cluster.HostCa, "-H", "Connection: Upgrade", "-H", "Upgrade: SPDY/3.1",
            "-H", "X-Stream-Protocol-Version: v4.channel.k8s.io", "-w", "\n%{http_code}", $"{cluster.DirectServer}{ExecPath}?command=echo&stdout=true"]);

        result.EnsureSuccess("curl");
        Assert.EndsWith("\n400", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("served over WebSocket only", result.Stdout, StringComparison.Ordinal);
        var exec = Assert.Single(cluster.Api.Seen.Skip(before), r => r.Path == ExecPath);
        Assert.Equal("SPDY/3.1", exec.Upgrade);
        Assert.Equal(["alice"], exec.ImpersonateUser);
    }

    [Fact]
    public async Task A_role_without_the_cluster_gets_kubectls_Forbidden_for_exec_and_the_upgrade_never_reaches_the_api_server()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.BobCorp);
        var before = cluster.Api.Seen.Count;

        // kubectl gets the pod before it upgrades: that GET is the refusal it prints.
        var result = await KubeAccessCluster.KubectlAsync(env, "exec", KubeApiStandIn.ListedPod, "--", "echo", "hello");

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(result.Stderr.Contains("Error from server (Forbidden)", StringComparison.Ordinal), result.Stderr);
        Assert.True(result.Stderr.Contains($"kubernetes cluster '{KubeAccessCluster.ClusterName}'", StringComparison.Ordinal), result.Stderr);

        // The upgrade itself, asked for directly, is refused with a Status too, before anything is forwarded.
        var upgrade = await Peer.RunAsync("curl", ["-sS", "--http1.1", "--max-time", "20", "--cert", cluster.BobCorp.Certificate, "--key", cluster.BobCorp.Key,
            "--cacert", cluster.HostCa, "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
            "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", $"Sec-WebSocket-Protocol: {KubeApiStandIn.ChannelV5}",
            "-w", "\n%{http_code}", $"{cluster.DirectServer}{ExecPath}?command=echo&command=hello&stdout=true"]);
        upgrade.EnsureSuccess("curl");
        Assert.EndsWith("\n403", upgrade.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"Forbidden\"", upgrade.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, cluster.Api.Seen.Count);
    }

    [Fact]
    public async Task By_tls_server_name_kube_gatehouse_kubectl_gets_pods_and_execs_straight_at_the_proxy()
    {
        // The first way in: SNI kube-gatehouse.<public name> (tls-server-name) to the proxy's address; no path prefix.
        var env = await cluster.KubeconfigAsync($"https://127.0.0.1:{cluster.Proxy.Port}", cluster.HostCa, cluster.AliceCorp,
            tlsServerName: $"kube-gatehouse.{KubeAccessCluster.PublicName}");
        var before = cluster.Api.Seen.Count;

        var pods = await KubeAccessCluster.KubectlAsync(env, "get", "pods");
        var echo = await KubeAccessCluster.KubectlAsync(env, "exec", KubeApiStandIn.ListedPod, "--", "echo", "by", "name");

        Assert.True(pods.ExitCode == 0, pods.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, pods.Stdout, StringComparison.Ordinal);
        Assert.True(echo.ExitCode == 0, echo.Output);
        Assert.Equal("by name", echo.Stdout.Trim());
        var seen = cluster.Api.Seen.Skip(before).ToList();
        Assert.Contains(seen, r => r.Path == ExecPath && string.Equals(r.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase));
        Assert.All(seen, r => Assert.Equal(["alice"], r.ImpersonateUser));
    }
}
