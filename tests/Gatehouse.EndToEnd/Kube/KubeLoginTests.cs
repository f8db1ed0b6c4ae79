using Gatehouse.Cli.Commands;
using Gatehouse.Client.Dialing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Kube;

/// <summary><c>gatehouse kube login</c> against a proxy reached directly: the kubeconfig entry it writes works with plain
/// kubectl, a second run replaces its own entry, and entries it does not own survive.</summary>
[Collection(KubeAccessCollection.Name)]
public sealed class KubeLoginTests(KubeAccessCluster cluster)
{
    [Fact]
    public async Task Kube_login_writes_a_kubeconfig_entry_kubectl_uses_and_keeps_other_entries()
    {
        using var client = new ClientMachine();
        var address = cluster.Proxy.Address;
        (await client.Cli.RunAsync("login", "--proxy", address, "--identity", Path.GetDirectoryName(cluster.Alice.Certificate)!, "--ca", cluster.HostCa))
            .EnsureSuccess("login --identity");
        var kubeconfig = client.File("kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, """
            apiVersion: v1
            kind: Config
            clusters:
              - name: other
                cluster: { server: "https://10.9.9.9:6443", insecure-skip-tls-verify: true }
            users:
              - name: other
                user: { token: abc }
            contexts:
              - name: other
                context: { cluster: other, user: other, namespace: "007" }
            current-context: other
            """);

        var first = await client.Cli.RunAsync("kube", "login", KubeAccessCluster.ClusterName, "--proxy", address, "--kubeconfig", kubeconfig);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("direct", first.Stdout, StringComparison.Ordinal);
        var second = await client.Cli.RunAsync("kube", "login", KubeAccessCluster.ClusterName, "--proxy", address, "--kubeconfig", kubeconfig);
        Assert.True(second.ExitCode == 0, second.Output);

        var entry = $"gatehouse-{address}-{KubeAccessCluster.ClusterName}";
        var text = await File.ReadAllTextAsync(kubeconfig);
        Assert.Equal(3, CountOccurrences(text, $"name: {entry}"));        // one cluster, one user, one context
        Assert.Contains($"current-context: {entry}", text, StringComparison.Ordinal);
        Assert.Contains("tls-server-name: gatehouse.internal", text, StringComparison.Ordinal);
        Assert.Contains("name: other", text, StringComparison.Ordinal);
        Assert.Contains("namespace: \"007\"", text, StringComparison.Ordinal);  // a string that looks like a number stays one

        var home = client.File("kube-home");
        Directory.CreateDirectory(home);
        var env = new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = home };
        var pods = await KubeAccessCluster.KubectlAsync(env, "get", "pods");
        Assert.True(pods.ExitCode == 0, pods.Output + "\n" + text);
        Assert.Contains(KubeApiStandIn.ListedPod, pods.Stdout, StringComparison.Ordinal);
        var contexts = await KubeAccessCluster.KubectlAsync(env, "config", "get-contexts", "-o", "name");
        Assert.True(contexts.ExitCode == 0, contexts.Output);
        Assert.Equal(new[] { "other", entry }.Order(StringComparer.Ordinal), contexts.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Kube_login_through_the_mtls_balancer_trusts_the_balancer_and_kubectl_gets_pods()
    {
        // The balancer's certificate is trusted as a public one would be: through the system store (SSL_CERT_FILE).
        using var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = cluster.BalancerCa });
        var alb = $"127.0.0.1:{cluster.AlbPort}";
        var login = await client.Cli.RunAsync("login", "--proxy", alb, "--identity", Path.GetDirectoryName(cluster.Alice.Certificate)!, "--ca", cluster.HostCa);
        Assert.True(login.ExitCode == 0, login.Output);
        var kubeconfig = client.File("kubeconfig");

        var result = await client.Cli.RunAsync("kube", "login", KubeAccessCluster.ClusterName, "--proxy", alb, "--ca", cluster.BalancerCa, "--kubeconfig", kubeconfig);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("mTLS balancer", result.Stdout, StringComparison.Ordinal);
        var text = await File.ReadAllTextAsync(kubeconfig);
        Assert.Contains($"certificate-authority: {cluster.BalancerCa}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tls-server-name", text, StringComparison.Ordinal);
        var home = client.File("kube-home");
        Directory.CreateDirectory(home);
        var pods = await KubeAccessCluster.KubectlAsync(new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = home }, "get", "pods");
        Assert.True(pods.ExitCode == 0, pods.Output + "\n" + text);
        Assert.Contains(KubeApiStandIn.ListedPod, pods.Stdout, StringComparison.Ordinal);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}

/// <summary>The deployment rules of kube login and app login over /v1/ping's echo, without a network.</summary>
public sealed class HttpDeploymentTests
{
    private static PingOutcome Ping(bool terminated, IReadOnlyList<string> certificateHeaders, IReadOnlyList<string> forwarding) =>
        new(new PingEcho(terminated, "proxy.example.com", "http/1.1", certificateHeaders, forwarding), true, "proxy.example.com", "http/1.1", null);

    [Fact]
    public void The_proxy_terminating_the_tls_it_was_sent_is_direct() =>
        Assert.Equal(HttpDeployment.Direct, HttpDeploymentDetector.Classify(false, Ping(true, [], [])).Deployment);

    [Fact]
    public void A_balancer_forwarding_the_client_certificate_is_an_mtls_front() =>
        Assert.Equal(HttpDeployment.MtlsFront, HttpDeploymentDetector.Classify(false, Ping(true, ["x-amzn-mtls-clientcert"], ["x-forwarded-for"])).Deployment);

    [Fact]
    public void A_balancer_without_certificate_headers_needs_a_local_proxy()
    {
        Assert.Equal(HttpDeployment.NeedsLocalProxy, HttpDeploymentDetector.Classify(false, Ping(true, [], ["x-forwarded-for"])).Deployment);
        Assert.Equal(HttpDeployment.NeedsLocalProxy, HttpDeploymentDetector.Classify(false, Ping(false, [], [])).Deployment);
    }

    [Fact]
    public void Via_front_needs_no_ping_and_no_answer_is_no_decision()
    {
        Assert.Equal(HttpDeployment.MtlsFront, HttpDeploymentDetector.Classify(true, null).Deployment);
        var (deployment, reason) = HttpDeploymentDetector.Classify(false, new PingOutcome(null, false, null, "http/1.1", "connection refused"));
        Assert.Null(deployment);
        Assert.Contains("connection refused", reason, StringComparison.Ordinal);
    }
}
