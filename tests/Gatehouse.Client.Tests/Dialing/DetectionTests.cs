using System.Text.Json;
using Gatehouse.Client.Dialing;

namespace Gatehouse.Client.Tests.Dialing;

/// <summary>The detection rules as values: what /v1/ping echoed and what the probe negotiated, to direct or tunnel.</summary>
public sealed class DetectionTests
{
    private const string Sni = "proxy.example.com", Alpn = "http/1.1";

    private static PingEcho Echo(bool terminated = true, string? sni = Sni, string? alpn = Alpn, string[]? forwarding = null, string[]? certHeaders = null) =>
        new(terminated, sni, alpn, certHeaders ?? [], forwarding ?? []);

    private static readonly Dictionary<string, (PingEcho Echo, bool? Tunnel)> EchoCases = new()
    {
        ["proxy terminated, all as sent: probe to be sure"] = (Echo(), null),
        ["an L7 balancer terminated TLS"] = (Echo(terminated: false, sni: null, alpn: null), true),
        ["SNI rewritten by a re-encrypting balancer"] = (Echo(sni: "backend.internal"), true),
        ["SNI dropped"] = (Echo(sni: null), true),
        ["SNI differs in case only"] = (Echo(sni: "PROXY.example.com"), null),
        ["ALPN became h2"] = (Echo(alpn: "h2"), true),
        ["ALPN stripped"] = (Echo(alpn: null), true),
        ["forwarding headers arrived"] = (Echo(forwarding: ["x-forwarded-for"]), true),
        ["a forwarded client certificate arrived"] = (Echo(certHeaders: ["x-amzn-mtls-clientcert"]), true),
    };

    public static TheoryData<string> Echoes => [.. EchoCases.Keys];

    [Theory]
    [MemberData(nameof(Echoes))]
    public void Ping_echo_alone(string why)
    {
        var (echo, tunnel) = EchoCases[why];
        var (decided, reason) = TunnelDetector.Classify(echo, Sni, Alpn);
        Assert.True(tunnel == decided, $"{why}: expected {tunnel}, got {decided} ({reason})");
        Assert.NotEmpty(reason);
    }

    [Fact]
    public void No_sni_sent_to_an_ip_address_matches_none_seen() =>
        Assert.Null(TunnelDetector.Classify(Echo(sni: null), null, Alpn).Tunnel);

    private static PingOutcome PingOk(PingEcho echo) => new(echo, true, Sni, Alpn, null);
    private static readonly PingOutcome PingFailedHttpsWorks = new(null, true, Sni, Alpn, "/v1/ping answered 404 Not Found");
    private static readonly PingOutcome PingUnreachable = new(null, false, Sni, Alpn, "cannot reach proxy.example.com:443: Connection refused");
    private static readonly ProbeOutcome ProbeTunnel = new("gatehouse-tunnel", null), ProbeNoAlpn = new(null, null), ProbeH2 = new("h2", null),
        ProbeEof = new(null, "the connection closed"), ProbeRefused = new(null, "Connection refused");

    private static readonly Dictionary<string, (PingOutcome Ping, ProbeOutcome? Probe, bool? Tunnel)> CombinationCases = new()
    {
        ["ping says tunnel: no probe needed"] = (PingOk(Echo(terminated: false)), null, true),
        ["ping clean, probe negotiates gatehouse-tunnel"] = (PingOk(Echo()), ProbeTunnel, false),
        ["ping clean, probe gets no ALPN"] = (PingOk(Echo()), ProbeNoAlpn, true),
        ["ping clean, probe gets another ALPN"] = (PingOk(Echo()), ProbeH2, true),
        ["ping clean, probe cut off with EOF (Teleport calls this direct)"] = (PingOk(Echo()), ProbeEof, true),
        ["ping not Gatehouse's but HTTPS works, probe fails"] = (PingFailedHttpsWorks, ProbeEof, true),
        ["ping not Gatehouse's, probe negotiates gatehouse-tunnel"] = (PingFailedHttpsWorks, ProbeTunnel, false),
        ["ping unreachable, probe negotiates gatehouse-tunnel"] = (PingUnreachable, ProbeTunnel, false),
        ["ping unreachable, probe completes without ALPN"] = (PingUnreachable, ProbeNoAlpn, true),
        ["both fail: no decision"] = (PingUnreachable, ProbeRefused, null),
    };

    public static TheoryData<string> Combinations => [.. CombinationCases.Keys];

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Ping_and_probe(string why)
    {
        var (ping, probe, tunnel) = CombinationCases[why];
        var (decided, reasons, error) = TunnelDetector.Combine(ping, probe);
        Assert.True(tunnel == decided, $"{why}: expected {tunnel}, got {decided} ({string.Join("; ", reasons)}) {error}");
        Assert.NotEmpty(reasons);
        if (tunnel is null)
        {
            Assert.Contains(PingUnreachable.Error!, error);
            Assert.Contains(ProbeRefused.Error!, error);
        }
        else Assert.Null(error);
    }

    [Fact]
    public void Echo_is_read_from_the_ping_answer()
    {
        using var json = JsonDocument.Parse("""
            {"cluster_name":"c","seen":{"tls_terminated_by_proxy":true,"sni":"p.example","alpn":"http/1.1","client_certificate":false,
             "client_certificate_headers":[],"forwarding_headers":["via"],"remote_addr":"10.0.0.1"}}
            """);
        var echo = PingEcho.FromPingJson(json.RootElement)!;
        Assert.True(echo.TlsTerminatedByProxy);
        Assert.Equal("p.example", echo.Sni);
        Assert.Equal(["via"], echo.ForwardingHeaders);
        Assert.Equal("10.0.0.1", echo.Raw!.Value.GetProperty("remote_addr").GetString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"seen":{}}""")]
    [InlineData("""{"seen":{"tls_terminated_by_proxy":"yes"}}""")]
    [InlineData("[]")]
    public void Other_json_is_no_echo(string text)
    {
        using var json = JsonDocument.Parse(text);
        Assert.Null(PingEcho.FromPingJson(json.RootElement));
    }

    [Fact]
    public void Cache_is_kept_a_day()
    {
        using var folder = new Gatehouse.Testing.TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2030-01-01T00:00:00Z"));
        TunnelCache.Save(folder.Path, new TunnelDecision(true, TunnelDecision.FromDetection, ["r"], time.GetUtcNow()));
        time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(TunnelDecision.FromCache, TunnelCache.Load(folder.Path, time)?.Source);
        Assert.True(TunnelCache.Load(folder.Path, time)!.Tunnel);
        time.Advance(TimeSpan.FromHours(2));
        Assert.Null(TunnelCache.Load(folder.Path, time));
        File.WriteAllText(folder.File(TunnelCache.FileName), "{not json");
        Assert.Null(TunnelCache.Load(folder.Path, time));
    }
}
