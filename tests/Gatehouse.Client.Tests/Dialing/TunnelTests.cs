using System.Net;
using System.Net.Sockets;
using Gatehouse.Client.Dialing;
using Gatehouse.Routing;

namespace Gatehouse.Client.Tests.Dialing;

/// <summary>The client's tunnels and dials against loopback peers: a Kestrel /v1/tunnel and the proxy's inner side.</summary>
public sealed class TunnelTests : IDisposable
{
    private readonly TestPki _pki = new();
    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    public void Dispose() => _pki.Dispose();

    private static async Task AssertRoundTripAsync(Stream stream)
    {
        var sent = new byte[100_000];
        Random.Shared.NextBytes(sent);
        var reading = Task.Run(async () =>
        {
            var got = new byte[sent.Length];
            await stream.ReadExactlyAsync(got, Timeout);
            return got;
        });
        await stream.WriteAsync(sent, Timeout);
        await stream.FlushAsync(Timeout);
        Assert.Equal(sent, await reading);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WebSocket_tunnel_round_trips_bytes(bool ping)
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo);
        var (stream, error) = await TunnelOpener.OpenWebSocketAsync(_pki.Options(peer.Port), ping, Timeout);
        Assert.True(stream is not null, error);
        await using (stream) await AssertRoundTripAsync(stream);
    }

    [Fact]
    public async Task Raw_upgrade_tunnel_round_trips_bytes()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo);
        var (stream, error) = await TunnelOpener.OpenRawAsync(_pki.Options(peer.Port), Timeout);
        Assert.True(stream is not null, error);
        await using (stream) await AssertRoundTripAsync(stream);
    }

    [Theory]
    [InlineData(nameof(PeerMode.WrongSubProtocol))]
    [InlineData(nameof(PeerMode.NoSubProtocol))]
    public async Task A_WebSocket_without_our_sub_protocol_is_rejected(string mode)
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, Enum.Parse<PeerMode>(mode));
        var (stream, error) = await TunnelOpener.OpenWebSocketAsync(_pki.Options(peer.Port), ping: true, Timeout);
        Assert.Null(stream);
        Assert.Contains("gatehouse-tls-ping", error);
        Assert.Contains("sub-protocol", error);
    }

    [Fact]
    public async Task A_400_is_reported_with_its_body_for_both_upgrades()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Refuse400);
        var (stream, error) = await TunnelOpener.OpenWebSocketAsync(_pki.Options(peer.Port), ping: true, Timeout);
        Assert.Null(stream);
        Assert.Equal("the balancer answered 400 Bad Request: it does not pass WebSocket upgrades on /v1/tunnel " +
                     "(body: This balancer does not pass upgrades here.)", error);
        (stream, error) = await TunnelOpener.OpenRawAsync(_pki.Options(peer.Port), Timeout);
        Assert.Null(stream);
        Assert.StartsWith("the balancer answered 400 Bad Request: it does not pass raw", error);
        Assert.EndsWith("(body: This balancer does not pass upgrades here.)", error);
    }

    [Fact]
    public async Task The_outer_TLS_needs_the_system_store_the_host_CA_or_insecure()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo);
        var noCa = _pki.Options(peer.Port) with { HostCa = null };
        var (stream, error) = await TunnelOpener.OpenWebSocketAsync(noCa, ping: false, Timeout);
        Assert.Null(stream);
        Assert.Contains("trusted neither by this machine nor by the cluster's host CA", error);
        (stream, error) = await TunnelOpener.OpenWebSocketAsync(noCa with { Insecure = true }, ping: false, Timeout);
        Assert.True(stream is not null, error);
        await stream.DisposeAsync();
    }

    [Theory]
    [InlineData(nameof(TunnelKind.WebSocket), nameof(DialRoute.WebSocket))]
    [InlineData(nameof(TunnelKind.Raw), nameof(DialRoute.RawUpgrade))]
    public async Task A_tunnelled_dial_runs_inner_TLS_the_dial_frame_and_ping_framing(string kindName, string routeName)
    {
        var (kind, route) = (Enum.Parse<TunnelKind>(kindName), Enum.Parse<DialRoute>(routeName));
        DialRequest? seen = null;
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Proxy, r => { seen = r; return DialAnswer.Accepted; });
        var dialer = new ProxyDialer(_pki.Options(peer.Port) with { Tunnel = TunnelSetting.Parse("always"), TunnelKind = kind });
        var result = await dialer.DialAsync(new DialTarget(AlpnProtocols.Tcp, "echo"), Timeout);
        Assert.True(result.Ok, result.Error);
        Assert.Equal(route, result.Route);
        Assert.Equal("echo", seen?.Target);
        Assert.IsType<PingFramedStream>(result.Stream); // tunnelled: -ping by default
        await using (result.Stream) await AssertRoundTripAsync(result.Stream!);
        lock (InnerPeer.SeenAlpn) Assert.Contains("gatehouse-tcp-ping", InnerPeer.SeenAlpn);
    }

    [Fact]
    public async Task A_refusal_becomes_a_sentence_with_the_code()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Proxy, _ => DialAnswer.Refuse(DialCodes.Denied, "role dev may not reach app db"));
        var dialer = new ProxyDialer(_pki.Options(peer.Port) with { Tunnel = TunnelSetting.Parse("always") });
        var result = await dialer.DialAsync(new DialTarget(AlpnProtocols.Tcp, "db"), Timeout);
        Assert.False(result.Ok);
        Assert.Equal(DialCodes.Denied, result.Code);
        Assert.Equal("access to db denied: role dev may not reach app db. Ask an administrator for a role that allows it.", result.Error);
    }

    [Fact]
    public async Task A_direct_dial_offers_the_service_ALPN_and_the_client_certificate()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serving = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(Timeout);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            await InnerPeer.ServeAsync(stream, _pki, _ => DialAnswer.Accepted, Timeout);
        });
        var dialer = new ProxyDialer(_pki.Options(port) with { Tunnel = TunnelSetting.Parse("never") });
        var result = await dialer.DialAsync(new DialTarget(AlpnProtocols.Tcp, "echo"), Timeout);
        Assert.True(result.Ok, result.Error);
        Assert.Equal(DialRoute.Direct, result.Route);
        Assert.IsNotType<PingFramedStream>(result.Stream); // direct: no framing unless asked
        await using (result.Stream) await AssertRoundTripAsync(result.Stream!);
        await result.Stream!.DisposeAsync();
        await serving;
    }

    [Fact]
    public async Task The_inner_TLS_refuses_a_certificate_not_from_the_host_CA()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Proxy);
        using var other = new TestPki();
        var dialer = new ProxyDialer(_pki.Options(peer.Port) with { HostCa = other.Ca, Insecure = true, Tunnel = TunnelSetting.Parse("always") });
        var result = await dialer.DialAsync(new DialTarget(AlpnProtocols.Tcp, "echo"), Timeout);
        Assert.False(result.Ok);
        Assert.Contains("inner TLS handshake", result.Error);
        Assert.Contains("not from the cluster's host CA", result.Error);
    }

    [Fact]
    public async Task A_plain_HTTPS_server_that_echoes_a_clean_ping_but_not_the_probe_means_tunnel_and_is_cached()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo);
        using var folder = new Gatehouse.Testing.TempDirectory();
        var options = _pki.Options(peer.Port) with { ProfileDirectory = folder.Path };
        var (decision, error) = await new TunnelDetector(options).DecideAsync(refresh: false, Timeout);
        Assert.True(decision is not null, error);
        Assert.True(decision.Tunnel, string.Join("; ", decision.Reasons));
        Assert.Contains(decision.Reasons, r => r.StartsWith("probe:", StringComparison.Ordinal));
        Assert.True(File.Exists(folder.File(TunnelCache.FileName)));
        var (again, _) = await new TunnelDetector(options).DecideAsync(refresh: false, Timeout);
        Assert.Equal(TunnelDecision.FromCache, again!.Source);
    }
}
