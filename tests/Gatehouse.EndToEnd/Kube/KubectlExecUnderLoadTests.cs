using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Testing;
using Gatehouse.Pki.Trust;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>Many execs at once through Gatehouse: every one gets exactly what the "container" wrote. An exec that exits 0
/// with empty output is lost data, whatever the machine's load.</summary>
[Collection(KubeAccessCollection.Name)]
public sealed class KubectlExecUnderLoadTests(KubeAccessCluster cluster)
{
    private const int Execs = 24;
    private const int AtOnce = 8;

    [Fact]
    public async Task Concurrent_kubectl_execs_straight_by_name_and_through_the_balancer_each_print_their_whole_output()
    {
        Dictionary<string, string>[] ways =
        [
            await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp),
            await cluster.KubeconfigAsync($"https://127.0.0.1:{cluster.Proxy.Port}", cluster.HostCa, cluster.AliceCorp,
                tlsServerName: $"kube-gatehouse.{KubeAccessCluster.PublicName}"),
            await cluster.KubeconfigAsync(cluster.AlbServer, cluster.BalancerCa, cluster.AliceCorp),
        ];
        // Warm each kubeconfig's discovery cache once, so that the execs below overlap on their upgrades, not on discovery.
        foreach (var way in ways)
            (await KubeAccessCluster.KubectlAsync(way, "get", "pods")).EnsureSuccess("kubectl get pods");

        using var gate = new SemaphoreSlim(AtOnce);
        var results = await Task.WhenAll(Enumerable.Range(0, Execs).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var word = $"exec-{i}-{new string('x', i * 41)}";
                return (Word: word, Result: await KubeAccessCluster.KubectlAsync(ways[i % ways.Length], "exec", KubeApiStandIn.ListedPod, "--", "echo", word));
            }
            finally
            {
                gate.Release();
            }
        }));

        var lost = results.Where(r => r.Result.ExitCode != 0 || r.Result.Stdout != r.Word + "\n")
            .Select(r => $"{r.Word[..Math.Min(r.Word.Length, 10)]}: exit {r.Result.ExitCode}, {r.Result.Stdout.Length} of {r.Word.Length + 1} chars, stderr: {r.Result.Stderr.Trim()}")
            .ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {Execs} execs lost output:\n{string.Join('\n', lost)}\nnginx:\n{cluster.Nginx.Output}");
    }

    [Fact]
    public async Task Concurrent_websocket_cat_sessions_get_every_byte_back_in_order_and_a_normal_close()
    {
        using var certificate = X509Certificate2.CreateFromPemFile(cluster.Alice.Certificate, cluster.Alice.Key);
        using var hostCa = X509CertificateLoader.LoadCertificateFromFile(cluster.HostCa);
        var uri = new Uri($"wss://127.0.0.1:{cluster.Proxy.Port}/kube/{KubeAccessCluster.ClusterName}/api/v1/namespaces/default/pods/" +
            $"{KubeApiStandIn.ListedPod}/exec?command=cat&stdin=true&stdout=true");

        var sessions = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => CatSessionAsync(uri, certificate, hostCa, 64 * 1024 + i * 1000)));

        Assert.All(sessions, s => Assert.True(s.Sent.AsSpan().SequenceEqual(s.Received), $"sent {s.Sent.Length} bytes, got back {s.Received.Length}"));
        Assert.All(sessions, s => Assert.Equal(WebSocketCloseStatus.NormalClosure, s.Close));
    }

    /// <summary>stdin in odd-sized messages while stdout is read, then the v5 close of stdin; reads until the close.</summary>
    private static async Task<(byte[] Sent, byte[] Received, WebSocketCloseStatus? Close)> CatSessionAsync(Uri uri, X509Certificate2 certificate,
        X509Certificate2 hostCa, int size)
    {
        using var socket = new ClientWebSocket();
        socket.Options.ClientCertificates.Add(certificate);
        socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && Chains.ChainsTo([hostCa], presented, Chains.ServerAuth);
        socket.Options.AddSubProtocol(KubeApiStandIn.ChannelV5);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await socket.ConnectAsync(uri, timeout.Token);

        var sent = RandomNumberGenerator.GetBytes(size);
        var writer = Task.Run(async () =>
        {
            for (var offset = 0; offset < sent.Length;)
            {
                var n = Math.Min(sent.Length - offset, 1 + (offset * 7919 % 8191));
                var message = new byte[n + 1];
                sent.AsSpan(offset, n).CopyTo(message.AsSpan(1));
                await socket.SendAsync(message, WebSocketMessageType.Binary, true, timeout.Token);
                offset += n;
            }
            await socket.SendAsync(new byte[] { 255, 0 }, WebSocketMessageType.Binary, true, timeout.Token);
        });
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var firstOfMessage = true;
        byte channel = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close) break;
            if (firstOfMessage) channel = buffer[0];
            Assert.True(channel is 1 or 3, $"a message on channel {channel}");
            // Channel 1 (stdout) is the output; channel 3 carries the exit status.
            var skip = firstOfMessage ? 1 : 0;
            if (channel == 1) received.Write(buffer, skip, result.Count - skip);
            firstOfMessage = result.EndOfMessage;
        }
        await writer;
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        return (sent, received.ToArray(), socket.CloseStatus);
    }
}
