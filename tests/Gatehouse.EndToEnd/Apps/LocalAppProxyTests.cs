using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Apps;

/// <summary>
/// `gatehouse proxy app NAME` for an HTTP app behind a balancer that does NOT forward client certificates (nginx as a
/// plain HTTPS reverse proxy passing upgrades): the app is served over plain HTTP on 127.0.0.1, and curl and a
/// WebSocket client reach it as alice — her certificate travels inside the tunnel.
/// </summary>
[Collection(HttpAppsCollection.Name)]
public sealed partial class LocalAppProxyTests(HttpAppsCluster cluster) : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly int _balancerPort = Peer.FreePort();
    private NginxPeer _nginx = null!;
    private string _balancerCa = "";

    public async Task InitializeAsync()
    {
        var ca = await OpensslCa.RootAsync(_dir.Path, "plain-balancer-ca", "/O=Balancers/CN=Plain Apps Balancer CA");
        _balancerCa = ca.Certificate;
        var (cert, key) = await ca.ServerAsync("plain-balancer");
        _nginx = await NginxPeer.StartAsync(_ => Task.FromResult($$"""
            map $http_upgrade $connection_upgrade { default upgrade; '' close; }

            server {
                listen 127.0.0.1:{{_balancerPort}} ssl;
                ssl_certificate     {{cert}};
                ssl_certificate_key {{key}};

                location / {
                    proxy_pass https://127.0.0.1:{{cluster.Proxy.Port}};
                    proxy_ssl_trusted_certificate {{cluster.HostCa}};
                    proxy_ssl_verify on;
                    proxy_ssl_name gatehouse.internal;
                    proxy_http_version 1.1;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection $connection_upgrade;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_read_timeout 1h;
                }
            }
            """), _balancerPort);
    }

    private string Balancer => $"127.0.0.1:{_balancerPort}";

    private async Task<(ClientMachine Client, BackgroundProcess Process, int Port)> StartAsync(IssuedCertificate user, string app)
    {
        var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = _balancerCa });
        (await client.Cli.RunAsync("login", "--proxy", Balancer, "--identity", Path.GetDirectoryName(user.Certificate)!, "--ca", cluster.HostCa))
            .EnsureSuccess("login --identity through the plain balancer");
        var process = client.Cli.Start("proxy", "app", app, "--proxy", Balancer, "--port", "0");
        await process.WaitForOutputAsync("Ctrl-C to stop", TimeSpan.FromSeconds(60));
        var match = ServingLine().Match(process.Output);
        return (client, process, match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0);
    }

    [Fact]
    public async Task Curl_and_a_websocket_reach_the_http_app_as_alice_through_the_local_port()
    {
        var (client, process, port) = await StartAsync(cluster.Alice, "echo");
        using var _ = client;
        await using var __ = process;
        Assert.True(port > 0, process.Output);
        Assert.Contains("(tunnel;", process.Output, StringComparison.Ordinal);

        var curl = await Peer.RunAsync("curl", ["-sS", "--max-time", "20", "-H", "X-Amzn-Mtls-Clientcert: forged", $"http://127.0.0.1:{port}/hello?x=1"]);

        Assert.True(curl.ExitCode == 0, curl.Output + process.Output);
        Assert.True(curl.Stdout.StartsWith('{'), curl.Stdout);
        using var json = System.Text.Json.JsonDocument.Parse(curl.Stdout);
        Assert.Equal("/hello", json.RootElement.GetProperty("path").GetString());
        Assert.Equal("?x=1", json.RootElement.GetProperty("query").GetString());
        var headers = json.RootElement.GetProperty("headers");
        Assert.False(headers.TryGetProperty("x-amzn-mtls-clientcert", out var _), curl.Stdout);
        var payload = headers.GetProperty("gatehouse-jwt-assertion").GetString()!.Split('.')[1];
        using var claims = System.Text.Json.JsonDocument.Parse(Base64Url(payload));
        Assert.Equal("alice", claims.RootElement.GetProperty("sub").GetString());

        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"), timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("hello through the tunnel"), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[256];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token); // the app's close frame comes back too
        Assert.Equal("hello through the tunnel", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    [Fact]
    public async Task A_role_without_the_app_is_told_so_before_anything_listens()
    {
        using var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = _balancerCa });
        (await client.Cli.RunAsync("login", "--proxy", Balancer, "--identity", Path.GetDirectoryName(cluster.Bob.Certificate)!, "--ca", cluster.HostCa))
            .EnsureSuccess("login --identity");

        // The HTTP app is decided on the web side, per request; the local proxy starts and bob gets the 403 with the reason.
        var process = client.Cli.Start("proxy", "app", "echo", "--proxy", Balancer, "--port", "0");
        await using (process)
        {
            await process.WaitForOutputAsync("Ctrl-C to stop", TimeSpan.FromSeconds(60));
            var port = int.Parse(ServingLine().Match(process.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var curl = await Peer.RunAsync("curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", $"http://127.0.0.1:{port}/"]);
            Assert.EndsWith("403", curl.Stdout.Trim(), StringComparison.Ordinal);
            Assert.Contains("ops", curl.Stdout, StringComparison.Ordinal);
        }
        var unknown = await client.Cli.RunAsync("proxy", "app", "no-such-app", "--proxy", Balancer, "--port", "0");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no-such-app", unknown.Stderr, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null) await _nginx.DisposeAsync();
        _dir.Dispose();
    }

    private static byte[] Base64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }

    [GeneratedRegex(@"at http://127\.0\.0\.1:(\d+)/ via")]
    private static partial Regex ServingLine();
}
