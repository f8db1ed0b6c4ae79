using System.Security.Cryptography;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.EndToEnd.Kube;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Faults;

/// <summary>The proxy killed with SIGKILL (issue 18, item 5): a running `gatehouse proxy kube` behind a balancer serves
/// kubectl's next request from the restarted proxy, without being restarted itself.</summary>
public sealed class KubeProxyFaultTests
{
    [Fact]
    public async Task A_running_proxy_kube_serves_kubectl_again_after_the_proxy_is_killed_with_sigkill_and_restarted()
    {
        using var dir = new TempDirectory();
        var apiCa = await OpensslCa.RootAsync(dir.Path, "kube-api-ca", "/O=Kube Stand-in/CN=Kube API Stand-in CA");
        var (apiCert, apiKey) = await apiCa.ServerAsync("kube-api-server");
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var tokenFile = dir.File("kube-token");
        await File.WriteAllTextAsync(tokenFile, token + "\n");
        await using var api = await KubeApiStandIn.StartAsync(apiCert, apiKey, token);
        await using var proxy = await ProxyUnderTest.StartAsync("kube-faults", $$"""
            resources:
              kube_clusters:
                - name: dev
                  api_server: {{api.Url}}
                  ca_file: {{apiCa.Certificate}}
                  token_file: {{tokenFile}}
                  labels: { env: dev }
            """);
        await proxy.ApplyRoleAsync("dev", "allow:\n  kube_labels: { env: dev }\n  kube_groups: [developers]");
        var alice = await proxy.IssueAsync("alice", "--roles", "dev");
        var hostCa = await proxy.ExportHostCaAsync();
        await using var balancer = await PlainBalancer.StartAsync(proxy.Port, hostCa);
        using var client = await balancer.LoggedInClientAsync(alice.Certificate, hostCa);
        var kubeconfig = client.File("local.kubeconfig");
        await using var local = client.Cli.Start("proxy", "kube", "dev", "--proxy", balancer.Address, "--port", "0", "--kubeconfig", kubeconfig);
        await local.WaitForOutputAsync("export KUBECONFIG=", TimeSpan.FromSeconds(60));
        var home = client.File("kube-home");
        Directory.CreateDirectory(home);
        var env = new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = home };

        var before = await KubeAccessCluster.KubectlAsync(env, "get", "pods");
        Assert.True(before.ExitCode == 0, before.Output + "\n" + local.Output);

        await proxy.KillAsync();
        await proxy.StartProxyAsync();

        // The same `proxy kube` process: its next request dials the new proxy process through the balancer.
        var after = await KubeAccessCluster.KubectlAsync(env, "get", "pods");
        Assert.True(after.ExitCode == 0, after.Output + "\n" + local.Output + "\n" + proxy.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, after.Stdout, StringComparison.Ordinal);
        Assert.False(local.HasExited, local.Output);
    }
}
