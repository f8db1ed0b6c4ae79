using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Ssh;

/// <summary>
/// The client side of issue 13: `gatehouse ssh` straight at the proxy, through nginx and through HAProxy (both layer-7,
/// so a tunnel), with the node's host key trusted only by the cluster's SSH host CA that the client fetched itself; and
/// plain `ssh NODE.CLUSTER` with the block `gatehouse config ssh` prints.
/// </summary>
[Collection(SshCollection.Name)]
public sealed class SshClientTests(SshCluster cluster)
{
    [Theory]
    [InlineData("proxy")]
    [InlineData("nginx")]
    [InlineData("haproxy")]
    public async Task Gatehouse_ssh_runs_a_command_with_the_host_key_verified_by_the_cluster_ca(string route)
    {
        var address = route switch { "proxy" => cluster.Proxy.Address, "nginx" => cluster.Balancer.Address, _ => cluster.HaproxyAddress };
        using var client = await cluster.AliceAtAsync(address);
        var result = await client.Cli.RunAsync("ssh", "--proxy", address, "root@node1", "echo", $"hi-via-{route}");
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal($"hi-via-{route}", result.Stdout.Trim());
        // The only host trust is the CA line the client fetched: nothing was added on first use.
        var knownHosts = await File.ReadAllLinesAsync(Path.Combine(client.ProfileOf(address), "ssh_known_hosts"));
        var line = Assert.Single(knownHosts, l => l.Length > 0);
        Assert.StartsWith("@cert-authority * ecdsa-sha2-nistp256 ", line, StringComparison.Ordinal);
        Assert.Equal((await File.ReadAllTextAsync(cluster.KnownHosts)).Trim(), line.Trim());
    }

    [Fact]
    public async Task Gatehouse_ssh_uses_the_only_login_and_says_which_to_pick_otherwise()
    {
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);
        var implicitLogin = await client.Cli.RunAsync("ssh", "node1", "whoami");
        Assert.True(implicitLogin.ExitCode == 0, implicitLogin.Output);
        Assert.Equal("root", implicitLogin.Stdout.Trim());
        // As with ssh, what follows the node is the command, options and all: -la is ls's, not -l a.
        var dashes = await client.Cli.RunAsync("ssh", "root@node1", "ls", "-la", "/");
        Assert.True(dashes.ExitCode == 0, dashes.Output);
        Assert.Contains(" ..", dashes.Stdout, StringComparison.Ordinal);

        var many = await cluster.Proxy.IssueAsync("dora", "--roles", "dev", "--logins", "root,postgres");
        using var dora = new ClientMachine();
        (await dora.Cli.RunAsync("login", "--proxy", cluster.Proxy.Address, "--identity", many.Directory, "--ca", cluster.HostCa)).EnsureSuccess("login dora");
        var ambiguous = await dora.Cli.RunAsync("ssh", "node1", "true");
        Assert.Equal(1, ambiguous.ExitCode);
        Assert.Contains("say which login to use on node1: gatehouse ssh LOGIN@node1 (your certificate allows: root, postgres)", ambiguous.Stderr,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_key_that_the_cluster_ca_did_not_sign_is_refused()
    {
        // Another sshd with a host key of its own (no certificate from the cluster's CA), as a node swapped for an impostor
        // would be: the same known_hosts refuses it rather than trusting it on first use.
        var sshUserCa = cluster.Proxy.File("ssh-user-ca.pub");
        await using var stranger = await SshdPeer.StartAsync(sshUserCa);
        var alice = await cluster.Proxy.IssueAsync("alice", "--roles", "dev", "--logins", "root");
        var result = await stranger.LoginAsync(Path.Combine(alice.Directory, "ssh-key"), Path.Combine(alice.Directory, "ssh-cert.pub"), "root",
            cluster.KnownHosts);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Host key verification failed", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_ssh_with_the_generated_config_reaches_node_dot_cluster()
    {
        using var client = await cluster.AliceAtAsync(cluster.Balancer.Address);
        var config = await client.Cli.RunAsync("config", "ssh", "--proxy", cluster.Balancer.Address);
        Assert.True(config.ExitCode == 0, config.Output);
        Assert.Contains($"Host *.{SshCluster.ClusterName}", config.Stdout, StringComparison.Ordinal);
        var file = client.File("ssh_config");
        await File.WriteAllTextAsync(file, config.Stdout);

        var result = await Peer.RunAsync("ssh", ["-F", file, "-o", "BatchMode=yes", $"root@node1.{SshCluster.ClusterName}", "uname"],
            timeout: TimeSpan.FromSeconds(60), environment: SshCluster.OpenSshEnvironment(client));
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal("Linux", result.Stdout.Trim());
    }
}
