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
using Gatehouse.Proxy.Hosting;
using Gatehouse.Storage;
using Gatehouse.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy.Tests.Authentication;

/// <summary>The header guard on in-memory requests: what reaches the rest of the pipeline, and what is audited.</summary>
public sealed class ClientCertificateHeaderGuardTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private ClusterState _cluster = null!;
    private ClientCertificateHeaderGuard _guard = null!;
    private HttpContext? _seen;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterState.OpenAsync(new ClusterOptions("guard", _dir.Path, KeyAlgorithm.EcdsaP256, TrustOptions.None, new ValidationOptions(), null),
            TimeProvider.System, create: true, CancellationToken.None);
        var nginx = ForwardedCertificateFormats.ById["nginx"];
        var front = new TrustedFront("edge", nginx, [IPNetwork.Parse("10.0.0.0/16")],
            new Dictionary<HeaderRole, string>(nginx.DefaultHeaders) { [HeaderRole.Cert] = "X-Edge-Cert" },
            new SharedSecretHeader("X-Edge-Secret", Encoding.UTF8.GetBytes("0123456789abcdef")));
        var options = new ProxyOptions(ProxyOptions.DefaultListen, ["localhost"]) { TrustedFronts = [front] };
        var authenticator = new ForwardedCertificateAuthenticator(new ForwardedCertificateOptions([front], new DecodeLimits()), _cluster.Validator,
            () => _cluster.Trust, new IdentityMapper([], "guard"), TimeProvider.System);
        _guard = new ClientCertificateHeaderGuard(context => { _seen = context; return Task.CompletedTask; }, authenticator, _cluster, options,
            NullLogger<ClientCertificateHeaderGuard>.Instance);
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
    public async Task From_the_front_network_without_the_secret_is_a_stranger()
    {
        await _guard.InvokeAsync(Request("10.0.3.3", ("X-Edge-Cert", "value"), ("X-Forwarded-For", "203.0.113.7")));
        var feature = _seen!.Features.Get<RequestIdentityFeature>()!;
        Assert.Null(feature.Front);
        Assert.False(_seen.Request.Headers.ContainsKey("X-Edge-Cert"));
        Assert.Equal("203.0.113.7", feature.Client.ToString()); // still a trusted hop for the address
    }

    [Fact]
    public async Task Repeated_forgeries_from_one_peer_are_audited_once_per_window()
    {
        for (var i = 0; i < 5; i++) await _guard.InvokeAsync(Request("192.0.2.9", ("X-Amzn-Mtls-Clientcert", "x")));
        Assert.Single(await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.ForgedClientCertificateHeader), CancellationToken.None));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _dir.Dispose();
    }
}
