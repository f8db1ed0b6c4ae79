using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.EndToEnd.Routing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Ssh;

/// <summary>
/// What makes plain OpenSSH worth keeping (issue 13): scp of 20 MiB each way through the proxy with matching checksums,
/// and ssh -L port forwarding carrying a TCP round trip — all of it SSH's own work over the relayed bytes.
/// </summary>
[Collection(SshCollection.Name)]
public sealed class SshTransferTests(SshCluster cluster)
{
    [Fact]
    public async Task Scp_copies_twenty_mebibytes_each_way_intact()
    {
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);
        var local = client.File("upload.bin");
        var bytes = RandomNumberGenerator.GetBytes(20 * 1024 * 1024);
        await File.WriteAllBytesAsync(local, bytes);
        var remote = $"/tmp/gatehouse-scp-{Guid.NewGuid():N}.bin"; // the node is this machine, as root
        var options = SshCluster.OpenSshOptions(client, cluster.Proxy.Address);
        var env = SshCluster.OpenSshEnvironment(client);
        try
        {
            var up = await Peer.RunAsync("scp", [.. options, local, $"root@node1:{remote}"], timeout: TimeSpan.FromMinutes(3), environment: env);
            Assert.True(up.ExitCode == 0, up.Output);
            Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await File.ReadAllBytesAsync(remote)));

            var back = client.File("download.bin");
            var down = await Peer.RunAsync("scp", [.. options, $"root@node1:{remote}", back], timeout: TimeSpan.FromMinutes(3), environment: env);
            Assert.True(down.ExitCode == 0, down.Output);
            Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await File.ReadAllBytesAsync(back)));
        }
        finally
        {
            File.Delete(remote);
        }
    }

    [Fact]
    public async Task Ssh_local_forwarding_carries_a_tcp_round_trip()
    {
        using var echo = EchoServer.Start();
        using var client = await cluster.AliceAtAsync(cluster.Proxy.Address);
        var localPort = Peer.FreePort();
        await using var ssh = BackgroundProcess.Start(Peer.Require("ssh"),
            [.. SshCluster.OpenSshOptions(client, cluster.Proxy.Address), "-N", "-o", "ExitOnForwardFailure=yes",
             "-L", $"127.0.0.1:{localPort}:127.0.0.1:{echo.Port}", "root@node1"],
            SshCluster.OpenSshEnvironment(client));
        await Peer.WaitForPortAsync(localPort, TimeSpan.FromSeconds(60), () => "ssh output:\n" + ssh.Output);
        using var socket = new TcpClient();
        await socket.ConnectAsync("127.0.0.1", localPort);
        await EchoCheck.SmallAndBulkAsync(socket.GetStream());
    }
}
