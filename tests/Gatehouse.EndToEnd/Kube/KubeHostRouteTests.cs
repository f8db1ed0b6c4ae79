using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Trust;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>
/// The first way in: SNI and Host <c>kube-gatehouse.&lt;name&gt;</c> straight at Gatehouse, with a Gatehouse-issued client
/// certificate in the handshake, with .NET's HttpClient (kubectl by tls-server-name: <see cref="KubectlExecTests"/>).
/// </summary>
[Collection(KubeAccessCollection.Name)]
public sealed class KubeHostRouteTests(KubeAccessCluster cluster)
{
    [Fact]
    public async Task Host_kube_gatehouse_reaches_the_only_cluster_as_the_certificates_user()
    {
        using var certificate = X509Certificate2.CreateFromPemFile(cluster.Alice.Certificate, cluster.Alice.Key);
        using var hostCa = X509CertificateLoader.LoadCertificateFromFile(cluster.HostCa);
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            // kube-gatehouse.localhost is not in DNS here: every connection goes to the proxy's port, the name stays in SNI and Host.
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, cluster.Proxy.Port, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [certificate],
                // The host certificate names only public_addr (127.0.0.1 here), not kube-gatehouse.*: check the chain, not the name.
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && Chains.ChainsTo([hostCa], presented, Chains.ServerAuth),
            },
        };
        using var client = new HttpClient(handler);
        var before = cluster.Api.Seen.Count;

        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"https://kube-gatehouse.localhost:{cluster.Proxy.Port}/api/v1/namespaces/default/pods");
        request.Headers.TryAddWithoutValidation("Impersonate-User", "root");
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains(KubeApiStandIn.ListedPod, body, StringComparison.Ordinal);
        var seen = Assert.Single(cluster.Api.Seen.Skip(before));
        Assert.Equal("/api/v1/namespaces/default/pods", seen.Path);
        Assert.Equal(["alice"], seen.ImpersonateUser);
        Assert.Equal(["developers", "viewers"], seen.ImpersonateGroup);
    }
}
