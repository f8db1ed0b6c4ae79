using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Ssh;

/// <summary>resources.ssh_nodes is checked at start, every problem named by its key.</summary>
public sealed class SshConfigTests
{
    [Fact]
    public async Task Bad_ssh_nodes_stop_the_start_naming_each_key()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.yaml"), """
            proxy:
              listen: 127.0.0.1:4000
            resources:
              ssh_nodes:
                - { name: "db.1", addr: "10.0.0.5:22" }
                - { name: node1, addr: "10.0.0.6" }
                - { name: web, addr: "10.0.0.7:22" }
                - { name: WEB, addr: "10.0.0.8:22" }
            """);
        var result = await new GatehouseCli(dir.Path).RunAsync("start", "--config", "bad.yaml");

        Assert.Equal(2, result.ExitCode);
        string[] expected =
        [
            "resources.ssh_nodes[0].name: 'db.1' must be one DNS label",
            "resources.ssh_nodes[1].addr: '10.0.0.6' is not host:port",
            "resources.ssh_nodes[3].name: 'WEB' is used by another SSH node",
        ];
        foreach (var line in expected) Assert.True(result.Stderr.Contains(line, StringComparison.Ordinal), $"missing '{line}' in:\n{result.Stderr}");
        Assert.Contains($"{expected.Length} problem(s)", result.Stderr, StringComparison.Ordinal);
    }
}
