using System.Net;
using System.Text;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Storage;
using Gatehouse.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Tests.Authentication;

/// <summary>The header guard on in-memory requests: what reaches the rest of the pipeline, and what is audited.</summary>
public sealed class ClientCertificateHeaderGuardTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    // A clock that stands still unless told: "within the window" never depends on how fast the machine is.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RecordingLogger<ClientCertificateHeaderGuard> _log = new();
    private ClusterState _cluster = null!;
    private ClientCertificateHeaderGuard _guard = null!;
    private HttpContext? _seen;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterState.OpenAsync(new ClusterOptions("guard", _dir.Path, KeyAlgorithm.EcdsaP256, TrustOptions.None, new ValidationOptions(), null),
            _time, create: true, CancellationToken.None);
        var nginx = ForwardedCertificateFormats.ById["nginx"];
        var front = new TrustedFront("edge", nginx, [IPNetwork.Parse("10.0.0.0/16")],
            new Dictionary<HeaderRole, string>(nginx.DefaultHeaders) { [HeaderRole.Cert] = "X-Edge-Cert" },
            new SharedSecretHeader("X-Edge-Secret", Encoding.UTF8.GetBytes("0123456789abcdef")));
        var options = new ProxyOptions(ProxyOptions.DefaultListen, ["localhost"]) { TrustedFronts = [front] };
        var authenticator = new ForwardedCertificateAuthenticator(new ForwardedCertificateOptions([front], new DecodeLimits()), _cluster.Validator,
            () => _cluster.Trust, new IdentityMapper([], "guard"), TimeProvider.System);
        _guard = new ClientCertificateHeaderGuard(context => { _seen = context; return Task.CompletedTask; }, authenticator,
            new AccessAudit(_cluster.Audit, _time), _time, options, _log);
    }

    private static DefaultHttpContext Request(string peer, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        foreach (var (name, value) in headers) context.Request.Headers.Append(name, value);
        return context;
    }

    [Fact]
    public async Task Certificate_headers_of_every_format_are_removed_from_a_stranger_and_audited()
    {
        var headers = ForwardedCertificateFormats.AllDefaultHeaderNames.Select(n => (n, "x")).Append(("X-Edge-Cert", "x")).Append(("X-Other", "kept")).ToArray();
        await _guard.InvokeAsync(Request("192.0.2.9", headers));

        Assert.NotNull(_seen);
        Assert.Equal(["X-Other"], _seen.Request.Headers.Keys);
        var feature = _seen.Features.Get<RequestIdentityFeature>()!;
        Assert.Null(feature.Front);
        Assert.Equal("192.0.2.9", feature.Client.ToString());
        var forged = Assert.Single(await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.ForgedClientCertificateHeader), CancellationToken.None));
        Assert.Equal("192.0.2.9", forged.SourceIp);
        Assert.Contains("x-edge-cert", forged.Reason);
        Assert.Contains("x-amzn-mtls-clientcert", forged.Reason);
    }

    [Fact]
    public async Task From_the_front_only_its_own_headers_survive_and_they_leave_the_request()
    {
        await _guard.InvokeAsync(Request("10.0.3.3",
            ("X-Edge-Cert", "value"), ("X-Edge-Secret", "0123456789abcdef"), ("X-Forwarded-Client-Cert", "Hash=00"), ("X-Forwarded-For", "203.0.113.7")));

        var feature = _seen!.Features.Get<RequestIdentityFeature>()!;
        Assert.Equal("edge", feature.Front?.Name);
        Assert.Equal(["value"], feature.FrontHeaders!.Get("X-Edge-Cert"));
        Assert.Equal("203.0.113.7", feature.Client.ToString()); // the front is a trusted hop
        Assert.Equal(["X-Forwarded-For"], _seen.Request.Headers.Keys); // neither the certificate nor the secret goes further
        var foreign = Assert.Single(await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.ForgedClientCertificateHeader), CancellationToken.None));
        Assert.Contains("x-forwarded-client-cert", foreign.Reason);
    }

    [Fact]
    public async Task What_X_Forwarded_For_claims_left_of_the_client_is_kept_as_a_claim()
    {
        await _guard.InvokeAsync(Request("10.0.3.3", ("X-Forwarded-For", "198.51.100.1, 203.0.113.7")));
        var feature = _seen!.Features.Get<RequestIdentityFeature>()!;
        Assert.Equal("203.0.113.7", feature.Client.ToString());
        Assert.Equal(["198.51.100.1"], feature.ClaimedForwardedFor);

        // From a peer that is no hop, the header proves nothing: all of it is a claim, and the client is the peer.
        await _guard.InvokeAsync(Request("192.0.2.9", ("X-Forwarded-For", "198.51.100.1, 10.0.3.3")));
        feature = _seen!.Features.Get<RequestIdentityFeature>()!;
        Assert.Equal("192.0.2.9", feature.Client.ToString());
        Assert.Equal(["198.51.100.1", "10.0.3.3"], feature.ClaimedForwardedFor);
    }

    [Fact]
    public async Task Inside_a_tunnel_the_client_is_who_opened_it_and_X_Forwarded_For_is_only_claimed()
    {
        var context = Request("10.0.3.3", ("X-Forwarded-For", "198.51.100.1"));
        context.Features.Set(new TunnelledConnection(IPAddress.Parse("203.0.113.9"), "websocket", null));
        await _guard.InvokeAsync(context);

        var feature = _seen!.Features.Get<RequestIdentityFeature>()!;
        Assert.Null(feature.Front);
        Assert.Equal("203.0.113.9", feature.Client.ToString());
        Assert.Equal(["198.51.100.1"], feature.ClaimedForwardedFor);
    }

    [Fact]
    public async Task From_the_front_network_without_the_secret_is_a_stranger()
    {
        await _guard.InvokeAsync(Request("10.0.3.3", ("X-Edge-Cert", "value"), ("X-Forwarded-For", "203.0.113.7")));
        var feature = _seen!.Features.Get<RequestIdentityFeature>()!;
        Assert.Null(feature.Front);
        Assert.False(_seen.Request.Headers.ContainsKey("X-Edge-Cert"));
        Assert.Equal("203.0.113.7", feature.Client.ToString()); // still a trusted hop for the address
    }

    [Fact]
    public async Task Underscore_spellings_of_certificate_headers_from_a_stranger_are_removed_and_reported()
    {
        // A CGI-style app reads X_Amzn_Mtls_Clientcert as X-Amzn-Mtls-Clientcert (issue 11).
        await _guard.InvokeAsync(Request("192.0.2.9", ("X_Amzn_Mtls_Clientcert", "x"), ("x-edge_cert", "x"), ("X_Edge_Secret", "0123456789abcdef"),
            ("X_Other", "kept")));

        Assert.Equal(["X_Other"], _seen!.Request.Headers.Keys);
        Assert.Null(_seen.Features.Get<RequestIdentityFeature>()!.Front);
        var forged = Assert.Single(await ForgeryEventsAsync());
        Assert.EndsWith("were removed: x-edge_cert, x_amzn_mtls_clientcert, x_edge_secret", forged.Reason);
    }

    [Fact]
    public async Task From_the_front_an_underscore_spelling_of_its_own_header_is_not_its_header()
    {
        await _guard.InvokeAsync(Request("10.0.3.3", ("X-Edge-Cert", "value"), ("X_Edge_Cert", "forged"), ("X-Edge-Secret", "0123456789abcdef")));

        var feature = _seen!.Features.Get<RequestIdentityFeature>()!;
        Assert.Equal("edge", feature.Front?.Name);
        Assert.Equal(["value"], feature.FrontHeaders!.Get("X-Edge-Cert")); // the balancer's own, not merged with the client's
        Assert.Empty(_seen.Request.Headers);
        var foreign = Assert.Single(await ForgeryEventsAsync());
        Assert.Equal("headers front 'edge' does not send were removed: x_edge_cert", foreign.Reason);
    }

    [Fact]
    public async Task An_underscore_spelling_of_the_fronts_secret_does_not_make_a_request_the_fronts()
    {
        await _guard.InvokeAsync(Request("10.0.3.3", ("X-Edge-Cert", "value"), ("X_Edge_Secret", "0123456789abcdef")));

        Assert.Null(_seen!.Features.Get<RequestIdentityFeature>()!.Front);
        Assert.Empty(_seen.Request.Headers);
    }

    [Fact]
    public async Task Repeated_forgeries_from_one_peer_are_audited_once_per_window()
    {
        for (var i = 0; i < 5; i++) await _guard.InvokeAsync(Request("192.0.2.9", ("X-Amzn-Mtls-Clientcert", "x")));
        Assert.Single(await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.ForgedClientCertificateHeader), CancellationToken.None));
    }

    [Fact]
    public async Task A_flood_of_different_header_subsets_from_one_address_is_one_audit_event_per_window()
    {
        // Issue 11: the throttle was keyed by the header set, so each subset was news: 40 requests, 40 store writes.
        var names = ForwardedCertificateFormats.AllDefaultHeaderNames.Order().ToList();
        for (var i = 1; i <= 40; i++)
        {
            var subset = names.Where((_, n) => ((i >> (n % 6)) & 1) == 1).Select(n => (n, "x")).ToArray(); // 40 different sets
            await _guard.InvokeAsync(Request("192.0.2.9", subset));
            Assert.Empty(_seen!.Request.Headers);
        }

        Assert.Single(await ForgeryEventsAsync());
        // The first of them was a Warning naming what was sent; the rest are at Debug, naming it too.
        Assert.Single(_log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("from 192.0.2.9", StringComparison.Ordinal));
        Assert.Equal(39, _log.Lines.Count(l => l.Level == LogLevel.Debug && l.Message.Contains("from 192.0.2.9", StringComparison.Ordinal)));

        _time.Advance(ClientCertificateHeaderGuard.ForgeryAuditWindow);
        await _guard.InvokeAsync(Request("192.0.2.9", ("X-Amzn-Mtls-Clientcert", "x")));
        Assert.Equal(2, (await ForgeryEventsAsync()).Count);
    }

    [Fact]
    public async Task Forgeries_from_many_addresses_stop_at_the_global_cap_and_the_next_event_says_how_many_were_left_out()
    {
        const int extra = 7;
        for (var i = 0; i < ClientCertificateHeaderGuard.ForgeryAuditLimit + extra; i++)
            await _guard.InvokeAsync(Request($"2001:db8::{i + 1:x}", ("X-Amzn-Mtls-Clientcert", "x")));

        Assert.Equal(ClientCertificateHeaderGuard.ForgeryAuditLimit, (await ForgeryEventsAsync()).Count);
        Assert.Single(_log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("more sources than the audit takes", StringComparison.Ordinal));

        _time.Advance(ClientCertificateHeaderGuard.ForgeryAuditWindow);
        await _guard.InvokeAsync(Request("192.0.2.77", ("X-Amzn-Mtls-Clientcert", "x")));
        var latest = (await ForgeryEventsAsync()).Single(e => e.SourceIp == "192.0.2.77");
        Assert.Equal($"{extra}", latest.Details!["not_recorded"]);
        Assert.Contains($"{extra} earlier events from other sources were not recorded", latest.Reason);
    }

    private async Task<IReadOnlyList<AuditEvent>> ForgeryEventsAsync() =>
        await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.ForgedClientCertificateHeader, Limit: 1000), CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _dir.Dispose();
    }
}
