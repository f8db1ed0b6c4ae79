using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>The configuration file as a newcomer writes it: single values where lists go, typos, wrong types — each
/// answered with the key path, the line and what is allowed, never a .NET type name (issue 19).</summary>
public sealed class ConfigFileTests
{
    [Fact]
    public async Task A_single_value_is_taken_where_a_list_is_expected()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("gatehouse.yaml"), """
            proxy:
              listen: localhost:3080
              public_addr: localhost:3080
              trusted_proxies: 10.0.0.0/16
              trusted_fronts:
                - { name: alb, format: aws-alb-verify, source_cidrs: 10.1.0.0/16 }
            trust:
              client_ca_files:
            """);
        var result = await new GatehouseCli(dir.Path).RunAsync("config", "check");
        result.EnsureSuccess("config check");
        Assert.Contains("OK", result.Stdout);
        Assert.Contains("public addresses localhost", result.Stdout); // the port is the listener's, not part of the name
        Assert.Contains("1 trusted front(s)", result.Stdout);
    }

    [Fact]
    public async Task Unknown_keys_and_wrong_types_name_the_key_path_the_line_and_what_is_allowed()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.yaml"), """
            proxy:
              public_addr: { host: gatehouse.example.com }
            pki:
              max_chain_depth: deep
            resources:
              ssh_nodes:
                - name: node1
                  adr: 10.0.0.5:22
              tcp_apps: orders-db
            """);
        var cli = new GatehouseCli(dir.Path);
        foreach (var verb in new[] { new[] { "config", "check", "--config", "bad.yaml" }, ["start", "--config", "bad.yaml"] })
        {
            var result = await cli.RunAsync(verb);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("5 problem(s)", result.Stderr); // the fifth: resources.ssh_nodes[0].addr is missing
            Assert.Contains("proxy.public_addr (line 2): expected a host name or a list of them, e.g. [gatehouse.example.com]; found a mapping", result.Stderr);
            Assert.Contains("pki.max_chain_depth (line 4): expected a whole number, e.g. 4; found 'deep'", result.Stderr);
            Assert.Contains("resources.ssh_nodes[0].adr (line 8): unknown key (did you mean addr?); the keys allowed in resources.ssh_nodes[0] are: name, addr, labels",
                result.Stderr);
            Assert.Contains("resources.tcp_apps (line 9): expected a list", result.Stderr);
            Assert.DoesNotContain("System.", result.Stderr);
            Assert.DoesNotContain("Gatehouse.Cli", result.Stderr);
        }
        Assert.False(Directory.Exists(dir.File("gatehouse-data")));

        await File.WriteAllTextAsync(dir.File("top.yaml"), "resource:\n  ssh_nodes: []\n");
        var top = await cli.RunAsync("config", "check", "--config", "top.yaml");
        Assert.Equal(2, top.ExitCode);
        Assert.Contains("resource (line 1): unknown key (did you mean resources?); the keys allowed at the top level are: cluster_name, data_dir,", top.Stderr);
    }
}
