using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// nginx as a layer-7 balancer WITHOUT mutual TLS in front of a proxy: it terminates TLS with a certificate of its own
/// CA, passes upgrades and forwards nothing about client certificates — the deployment where the user's certificate
/// must travel inside a tunnel (`gatehouse proxy kube`, `gatehouse proxy app`).
/// </summary>
internal sealed class PlainBalancer : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly NginxPeer _nginx;

    private PlainBalancer(TempDirectory dir, NginxPeer nginx, int port, string ca)
    {
        _dir = dir;
        _nginx = nginx;
        Address = $"127.0.0.1:{port}";
        Ca = ca;
    }

    /// <summary>HOST:PORT of the balancer.</summary>
    public string Address { get; }

    /// <summary>The CA of the balancer's certificate; clients trust it as a public one would be (SSL_CERT_FILE).</summary>
    public string Ca { get; }

    /// <param name="readTimeout">nginx's proxy_read_timeout: how long a quiet upstream (a quiet tunnel) lives.</param>
    public static async Task<PlainBalancer> StartAsync(int proxyPort, string hostCa, string readTimeout = "1h")
    {
        var dir = new TempDirectory();
        try
        {
            var ca = await OpensslCa.RootAsync(dir.Path, "plain-balancer-ca", "/O=Balancers/CN=Plain Balancer CA");
            var (cert, key) = await ca.ServerAsync("plain-balancer");
            var port = Peer.FreePort();
            var nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxBlocks.ConnectionUpgradeMap + "\n" +
                NginxBlocks.Server(port, cert, key, location: $"""
                    {NginxBlocks.ProxyToGatehouseTls(proxyPort, hostCa)}
                    {NginxBlocks.PassUpgradesOrClose}
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_buffering off;
                    proxy_read_timeout {readTimeout};
                    """)), port);
            return new PlainBalancer(dir, nginx, port, ca.Certificate);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>A client machine that trusts the balancer and is logged in through it with <paramref name="identityCertificate"/>'s
    /// directory (`gatehouse login --identity`).</summary>
    public async Task<ClientMachine> LoggedInClientAsync(string identityCertificate, string hostCa)
    {
        var environment = new Dictionary<string, string> { ["SSL_CERT_FILE"] = Ca };
        var client = new ClientMachine(environment);
        (await client.Cli.RunAsync("login", "--proxy", Address, "--identity", Path.GetDirectoryName(identityCertificate)!, "--ca", hostCa))
            .EnsureSuccess("login --identity through the plain balancer");
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _nginx.DisposeAsync();
        _dir.Dispose();
    }
}
