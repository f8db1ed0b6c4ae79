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

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
