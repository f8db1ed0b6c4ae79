using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.Pki.Trust;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>exec through Gatehouse with .NET's ClientWebSocket, for what kubectl 1.32 never does: offer only
/// <c>v4.channel.k8s.io</c> (older clients and other tools do). The sub-protocol is the API server's choice; Gatehouse
/// passes the offer on and the answer back.</summary>
[Collection(KubeAccessCollection.Name)]
public sealed class KubeExecWebSocketTests(KubeAccessCluster cluster)
{
    [Fact]
    public async Task A_client_offering_only_v4_gets_v4_from_the_api_server_and_the_channel_messages_through_gatehouse()
    {
        using var certificate = X509Certificate2.CreateFromPemFile(cluster.Alice.Certificate, cluster.Alice.Key);
        using var hostCa = X509CertificateLoader.LoadCertificateFromFile(cluster.HostCa);
        using var socket = new ClientWebSocket();
        socket.Options.ClientCertificates.Add(certificate);
        socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && Chains.ChainsTo([hostCa], presented, Chains.ServerAuth);
        socket.Options.AddSubProtocol(KubeApiStandIn.ChannelV4);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var before = cluster.Api.Seen.Count;

        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{cluster.Proxy.Port}/kube/{KubeAccessCluster.ClusterName}/api/v1/namespaces/default/pods/" +
            $"{KubeApiStandIn.ListedPod}/exec?command=echo&command=v4&stdout=true"), timeout.Token);
        var stdout = await ReceiveAsync(socket, timeout.Token);
        var status = await ReceiveAsync(socket, timeout.Token);
        var end = await socket.ReceiveAsync(new byte[16], timeout.Token);
        if (end.MessageType == WebSocketMessageType.Close)
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);

        Assert.Equal(KubeApiStandIn.ChannelV4, socket.SubProtocol);
        Assert.Equal(1, stdout[0]);
        Assert.Equal("v4\n", Encoding.UTF8.GetString(stdout, 1, stdout.Length - 1));
        Assert.Equal(3, status[0]);
        using (var json = JsonDocument.Parse(status.AsMemory(1)))
            Assert.Equal("Success", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(WebSocketMessageType.Close, end.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        var exec = Assert.Single(cluster.Api.Seen.Skip(before));
        Assert.Equal(["alice"], exec.ImpersonateUser);
        Assert.Equal(["developers", "viewers"], exec.ImpersonateGroup);
    }

    /// <summary>One whole binary message.</summary>
    private static async Task<byte[]> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cancellationToken);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            message.Write(buffer, 0, result.Count);
        } while (!result.EndOfMessage);
        return message.ToArray();
    }
}
