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
    private PlainBalancer _balancer = null!;

    public async Task InitializeAsync() => _balancer = await PlainBalancer.StartAsync(cluster.Proxy.Port, cluster.HostCa);

    private string Balancer => _balancer.Address;

    /// <summary>`gatehouse proxy app NAME --port 0` through the balancer; the process and the port it printed.</summary>
    private async Task<(BackgroundProcess Process, int Port)> StartLocalAsync(ClientMachine client, string app)
    {
        var process = client.Cli.Start("proxy", "app", app, "--proxy", Balancer, "--port", "0");
        await process.WaitForOutputAsync("Ctrl-C to stop", TimeSpan.FromSeconds(60));
        var match = ServingLine().Match(process.Output);
        Assert.True(match.Success, process.Output);
        return (process, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Curl_and_a_websocket_reach_the_http_app_as_alice_through_the_local_port()
    {
        using var client = await _balancer.LoggedInClientAsync(cluster.Alice.Certificate, cluster.HostCa);
        var (process, port) = await StartLocalAsync(client, "echo");
        await using var _ = process;
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
    public async Task A_role_without_the_app_gets_403_with_the_reason_and_an_unknown_app_is_refused_before_listening()
    {
        using var client = await _balancer.LoggedInClientAsync(cluster.Bob.Certificate, cluster.HostCa);

        // The HTTP app is decided on the web side, per request; the local proxy starts and bob gets the 403 with the reason.
        var (process, port) = await StartLocalAsync(client, "echo");
        await using (process)
        {
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
        if (_balancer is not null) await _balancer.DisposeAsync();
    }

    private static byte[] Base64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }

    [GeneratedRegex(@"at http://127\.0\.0\.1:(\d+)/ via")]
    private static partial Regex ServingLine();
}
