using Gatehouse.Client.Dialing;
using Gatehouse.Client.Login;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Client.Tests.Dialing;

/// <summary>
/// Issue 7: the outer TLS offers a client certificate when — and only when — the front asks (a Kestrel peer with
/// RequireCertificate stands in for a verify-mode balancer), and says why and what to do when there is none.
/// </summary>
public sealed class OuterCertificateTests : IDisposable
{
    private readonly TestPki _pki = new();
    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    public void Dispose() => _pki.Dispose();

    private static string Missing(int port) =>
        $"the balancer in front of 127.0.0.1:{port} requires a client certificate (mutual TLS in verify mode) and this machine has none for it. " +
        "Log in with `gatehouse login --identity DIR` using a certificate from `gatehouse admin certs issue`, or give a company certificate " +
        "the balancer trusts with `--outer-cert FILE --outer-key FILE`.";

    private static async Task RoundTripAsync(Stream stream)
    {
        var sent = "through the verify-mode front"u8.ToArray();
        await stream.WriteAsync(sent, Timeout);
        await stream.FlushAsync(Timeout);
        var got = new byte[sent.Length];
        await stream.ReadExactlyAsync(got, Timeout);
        Assert.Equal(sent, got);
    }

    [Fact]
    public async Task A_front_that_requires_a_certificate_gets_the_profiles_on_ping_and_both_upgrades()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo, clientCertificates: ClientCertificateMode.RequireCertificate);
        var options = _pki.Options(peer.Port);
        var ping = await new TunnelDetector(options).PingAsync(Timeout);
        Assert.True(ping.Echo is not null, ping.Error);
        var (websocket, error) = await TunnelOpener.OpenWebSocketAsync(options, ping: true, Timeout);
        Assert.True(websocket is not null, error);
        await using (websocket) await RoundTripAsync(websocket);
        var (raw, rawError) = await TunnelOpener.OpenRawAsync(options, Timeout);
        Assert.True(raw is not null, rawError);
        await using (raw) await RoundTripAsync(raw);
        Assert.True(options.Outer.Requested);
        Assert.True(options.Outer.Offered);
        Assert.Equal(["CN=alice", "CN=alice", "CN=alice"], peer.SeenClientCertificates);
    }

    [Fact]
    public async Task A_password_login_with_the_profiles_certificate_reaches_a_requiring_front()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo, clientCertificates: ClientCertificateMode.RequireCertificate);
        var outer = new OuterCertificate(_pki.Client, OuterCertificate.FromProfile);
        using var http = ProxyConnection.Create($"127.0.0.1:{peer.Port}", new ProxyTrust(_pki.Ca, false), TimeSpan.FromSeconds(10), outer);
        Assert.Contains("\"cluster_name\"", await http.GetStringAsync("v1/ping", Timeout));
        Assert.Equal(["CN=alice"], peer.SeenClientCertificates);
    }

    [Fact]
    public async Task Without_a_certificate_every_outer_connection_says_why_and_what_to_do()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo, clientCertificates: ClientCertificateMode.RequireCertificate);
        var options = _pki.Options(peer.Port) with { Outer = OuterCertificate.None() };
        var ping = await new TunnelDetector(options).PingAsync(Timeout);
        Assert.Null(ping.Echo);
        Assert.Equal(Missing(peer.Port), ping.Error);
        var (websocket, error) = await TunnelOpener.OpenWebSocketAsync(options, ping: true, Timeout);
        Assert.Null(websocket);
        Assert.Equal($"the WebSocket tunnel to 127.0.0.1:{peer.Port} failed: " + Missing(peer.Port), error);
        var (raw, rawError) = await TunnelOpener.OpenRawAsync(options, Timeout);
        Assert.Null(raw);
        Assert.Equal("the raw-upgrade tunnel failed: " + Missing(peer.Port), rawError);
        Assert.True(options.Outer.Requested);
        Assert.False(options.Outer.Offered);

        var outer = OuterCertificate.None();
        using var http = ProxyConnection.Create($"127.0.0.1:{peer.Port}", new ProxyTrust(_pki.Ca, false), TimeSpan.FromSeconds(10), outer);
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync("v1/ping", Timeout));
        Assert.Equal(Missing(peer.Port), ProxyConnection.Explain(e, $"127.0.0.1:{peer.Port}", new ProxyTrust(_pki.Ca, false), outer));
    }

    [Fact]
    public async Task A_front_that_does_not_ask_gets_no_certificate()
    {
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Echo, clientCertificates: ClientCertificateMode.NoCertificate);
        var options = _pki.Options(peer.Port);
        var ping = await new TunnelDetector(options).PingAsync(Timeout);
        Assert.True(ping.Echo is not null, ping.Error);
        var (websocket, error) = await TunnelOpener.OpenWebSocketAsync(options, ping: false, Timeout);
        Assert.True(websocket is not null, error);
        await using (websocket) await RoundTripAsync(websocket);
        var (raw, rawError) = await TunnelOpener.OpenRawAsync(options, Timeout);
        Assert.True(raw is not null, rawError);
        await using (raw) await RoundTripAsync(raw);
        using var http = ProxyConnection.Create($"127.0.0.1:{peer.Port}", new ProxyTrust(_pki.Ca, false), TimeSpan.FromSeconds(10), options.Outer);
        await http.GetStringAsync("v1/ping", Timeout);
        Assert.False(options.Outer.Requested);
        Assert.False(options.Outer.Offered);
        Assert.Equal(["(none)", "(none)", "(none)", "(none)"], peer.SeenClientCertificates);
    }

    [Fact]
    public async Task An_explicit_outer_certificate_goes_on_the_outer_TLS_and_the_profiles_on_the_inner()
    {
        using var company = _pki.IssueClient("CN=company laptop");
        await using var peer = await TunnelPeer.StartAsync(_pki, PeerMode.Proxy, clientCertificates: ClientCertificateMode.RequireCertificate);
        var options = _pki.Options(peer.Port) with
        {
            Outer = new OuterCertificate(company, OuterCertificate.FromOuterFiles), Tunnel = TunnelSetting.Parse("always"),
        };
        // InnerPeer accepts only CN=alice: the dial works only if the inner TLS still offers the profile's certificate.
        var result = await new ProxyDialer(options).DialAsync(new DialTarget(AlpnProtocols.Tcp, "echo"), Timeout);
        Assert.True(result.Ok, result.Error);
        await using (result.Stream) await RoundTripAsync(result.Stream!);
        Assert.Equal(["CN=company laptop"], peer.SeenClientCertificates);
    }
}
