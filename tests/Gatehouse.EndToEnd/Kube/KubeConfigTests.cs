using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>resources.kube_clusters is checked at start, its files read then, every problem named by its key.</summary>
public sealed class KubeConfigTests
{
    [Fact]
    public async Task Bad_kube_clusters_stop_the_start_naming_each_key()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("token"), "abc\n");
        await File.WriteAllTextAsync(dir.File("not-a-ca.pem"), "hello");
        await File.WriteAllTextAsync(dir.File("bad.yaml"), """
            proxy:
              listen: 127.0.0.1:4000
              kube_default: nowhere
            resources:
              kube_clusters:
                - { name: "a.b", api_server: "http://10.0.0.1:6443", ca_file: missing-ca.pem, token_file: token }
                - { name: prod, api_server: "https://10.0.0.1:6443", ca_file: not-a-ca.pem, token_file: missing-token }
                - { name: stage, api_server: "https://10.0.0.2:6443", ca_file: not-a-ca.pem, client_cert_file: c.pem }
                - { name: none, api_server: "https://10.0.0.3:6443" }
            """);
        var result = await new GatehouseCli(dir.Path).RunAsync("start", "--config", "bad.yaml");

        Assert.Equal(2, result.ExitCode);
        string[] expected =
        [
            "resources.kube_clusters[0].name: 'a.b' must be one DNS label",
            "resources.kube_clusters[0].api_server: 'http://10.0.0.1:6443' is not an https:// URL",
            "resources.kube_clusters[0].ca_file: cannot read missing-ca.pem",
            "resources.kube_clusters[1].ca_file: not-a-ca.pem holds no PEM certificate",
            "resources.kube_clusters[1].token_file: cannot read missing-token",
            "resources.kube_clusters[2].client_key_file: required with client_cert_file",
            "resources.kube_clusters[3].ca_file: required",
            "resources.kube_clusters[3]: give the proxy's credentials for the API server",
            "proxy.kube_default: 'nowhere' is not the name of one of resources.kube_clusters",
        ];
        foreach (var line in expected) Assert.True(result.Stderr.Contains(line, StringComparison.Ordinal), $"missing '{line}' in:\n{result.Stderr}");
        Assert.Contains($"{expected.Length + 1} problem(s)", result.Stderr, StringComparison.Ordinal);
    }
}
