using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Tests.Conformance;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Routing;

/// <summary>
/// Listener rules and target groups as an ALB runs them: host and path conditions in priority order, round robin over a
/// group's targets, health checks taking a failing target out, 404 when nothing matches, 502 when the target does not
/// answer, XFF preserve and remove, and WebSocket upgrades passed through.
/// </summary>
public sealed class RoutingTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly int _port = Peer.FreePort(), _preservePort = Peer.FreePort();
    private EchoTarget _a = null!, _b = null!, _api = null!;
    private EdgeUnderTest _edge = null!, _preserving = null!;
    private readonly int _deadPort = Peer.FreePort();

    public async Task InitializeAsync()
    {
        _a = await EchoTarget.StartAsync("a");
        _b = await EchoTarget.StartAsync("b");
        _api = await EchoTarget.StartAsync("api");
        var health = new HealthCheckOptions("/health", TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(900), 2, 2, "200-299");
        RuleOptions[] rules =
        [
            new("api.example.test", null, "api"),
            new(null, "/api/v?/*", "api"),
            new(null, "/dead/*", "dead"),
            new("*.example.test", "/pair*", "pair"),
        ];
        _edge = await EdgeUnderTest.StartAsync(_dir.Path, server => new EdgeOptions("routing",
            [EdgeUnderTest.Listener(_port, server, MutualAuthenticationOptions.Off, rules: rules)],
            [
                EdgeUnderTest.Group("pair", _a, _b) with { HealthCheck = health },
                EdgeUnderTest.Group("api", _api),
                new TargetGroupOptions("dead", TargetProtocol.Http, [new DnsEndPoint("127.0.0.1", _deadPort)], null, null),
            ]));
        var preserveDir = Path.Combine(_dir.Path, "preserve");
        Directory.CreateDirectory(preserveDir);
        _preserving = await EdgeUnderTest.StartAsync(preserveDir, server => new EdgeOptions("preserving",
            [EdgeUnderTest.Listener(_preservePort, server, MutualAuthenticationOptions.Off)], [EdgeUnderTest.Group("echo", _api)]) { Xff = XffMode.Preserve });
    }

    [Fact]
    public async Task Rules_route_by_host_and_path_in_priority_order_and_nothing_matched_is_404()
    {
        Assert.Equal("api", await TargetOfAsync("/anything", "api.example.test"));
        Assert.Equal("api", await TargetOfAsync("/api/v2/users", "www.example.test"));
        Assert.Contains(await TargetOfAsync("/pair", "WWW.Example.Test"), new[] { "a", "b" });

        var unmatched = await _edge.CurlAsync(_port, "/pair", "-H", "Host: other.test");
        Assert.Equal(404, unmatched.Status);
        Assert.Contains("404 Not Found", unmatched.Body, StringComparison.Ordinal);
        var caseMatters = await _edge.CurlAsync(_port, "/API/v2/users", "-H", "Host: other.test");
        Assert.Equal(404, caseMatters.Status);
    }

    [Fact]
    public async Task A_target_that_does_not_answer_is_502_from_the_edge()
    {
        var answer = await _edge.CurlAsync(_port, "/dead/x");
        Assert.Equal(502, answer.Status);
        Assert.Contains("502 Bad Gateway", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Round_robin_alternates_and_an_unhealthy_target_leaves_the_rotation_until_it_passes_again()
    {
        var seen = new List<string>();
        for (var i = 0; i < 4; i++) seen.Add(await TargetOfAsync("/pair", "www.example.test"));
        Assert.Equal(2, seen.Count(t => t == "a"));
        Assert.Equal(2, seen.Count(t => t == "b"));

        _b.HealthStatus = 500;
        await PollAsync(async () => (await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => TargetOfAsync("/pair", "www.example.test")))).All(t => t == "a"),
            "b leaves the rotation after two failed health checks");
        _b.HealthStatus = 200;
        await PollAsync(async () => (await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => TargetOfAsync("/pair", "www.example.test")))).Contains("b"),
            "b comes back after two passed health checks");
    }

    [Fact]
    public async Task Xff_preserve_passes_the_clients_header_as_sent_and_adds_proto_and_port()
    {
        var headers = HeaderConformanceTests.Headers(await _preserving.CurlAsync(_preservePort, "/", "-H", "X-Forwarded-For: 198.51.100.7"));
        Assert.Equal("198.51.100.7", HeaderConformanceTests.Value(headers, "X-Forwarded-For"));
        Assert.Equal("https", HeaderConformanceTests.Value(headers, "X-Forwarded-Proto"));
    }

    [Fact]
    public async Task A_websocket_upgrade_passes_through_to_the_target()
    {
        using var socket = new ClientWebSocket();
        var serverCa = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(_edge.ServerCa);
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            certificate is not null && (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) == 0
            && Gatehouse.Pki.Trust.Chains.ChainsTo([serverCa], certificate, Gatehouse.Pki.Trust.Chains.ServerAuth);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_port}/api/v1/ws"), timeout.Token);
        var hello = Encoding.UTF8.GetBytes("hello through the edge");
        await socket.SendAsync(hello, WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[256];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal("hello through the edge", Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
    }

    private async Task<string> TargetOfAsync(string path, string host)
    {
        var answer = await _edge.CurlAsync(_port, path, "-H", $"Host: {host}", "-D", "-", "-o", "/dev/null");
        var line = answer.Body.Split('\n').FirstOrDefault(l => l.StartsWith("x-target:", StringComparison.OrdinalIgnoreCase));
        Assert.True(line is not null, answer.ToString());
        return line[(line.IndexOf(':') + 1)..].Trim();
    }

    private static async Task PollAsync(Func<Task<bool>> done, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await done())
        {
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"{what}: not within 60 s");
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _preserving.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _api.DisposeAsync();
        _dir.Dispose();
    }
}
