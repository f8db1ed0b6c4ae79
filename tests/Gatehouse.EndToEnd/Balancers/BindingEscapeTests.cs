using System.Text.Json;
using Gatehouse.EndToEnd.Apps;
using Gatehouse.Routing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// The ways around the outer/inner binding that a review found (issue 11), tried against nginx as a front that forwards
/// alice's certificate: a tunnel opened inside the tunnel (raw or WebSocket) to carry bob's certificate one level down, and
/// a web session cookie of someone else inside a tunnel whose inner TLS presents no certificate. Each is refused with a
/// sentence and audited.
/// </summary>
internal static class BindingEscapes
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>alice's certificate outside (through the front at <paramref name="balancerPort"/>), TLS without a certificate
    /// inside, and there an upgrade to /v1/tunnel: refused with 403 and the sentence, and audited as tunnel.nested_refused.</summary>
    public static async Task NestedTunnelIsRefusedAsync(ProxyUnderTest proxy, int balancerPort, string balancerCa, string hostCa,
        IssuedCertificate outer, string outerUser, string front, string kind)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var tunnel = await TunnelByHand.WebSocketAsync(balancerPort, balancerCa, outer, timeout.Token);
        await using var inner = await TunnelByHand.TlsAsync(tunnel, hostCa, null, "http/1.1", timeout.Token);

        var (answer, nested) = await TunnelByHand.UpgradeAsync(inner, kind == "raw" ? TunnelKind.Raw : TunnelKind.WebSocket,
            timeout.Token);

        Assert.Null(nested);
        Assert.Equal(403, answer.Status);
        using var json = JsonDocument.Parse(answer.Body);
        Assert.Equal("NestedTunnel", json.RootElement.GetProperty("reason").GetString());
        Assert.Contains("a tunnel cannot be opened inside a tunnel", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        // Audited (at most once a minute per client, so the two kinds' tests may share one event).
        var events = await proxy.AuditAsync("--type", "tunnel.nested_refused");
        Assert.Contains(events, e => e.GetProperty("user").GetString() == outerUser
                                     && e.GetProperty("details").GetProperty("front").GetString() == front
                                     && e.GetProperty("decision").GetString() == "denied");
    }
}

/// <summary>Nested tunnels through nginx in verify mode to proxy.http_listen (plain HTTP behind the front).</summary>
[Collection(HttpListenCollection.Name)]
public sealed class HttpListenBindingEscapeTests(HttpListenCluster cluster)
{
    [Theory]
    [InlineData("raw")]
    [InlineData("websocket")]
    public Task A_tunnel_inside_a_bound_tunnel_is_refused(string kind) =>
        BindingEscapes.NestedTunnelIsRefusedAsync(cluster.Proxy, cluster.NginxPort, cluster.BalancerCa, cluster.HostCa, cluster.Alice, "alice",
            HttpListenCluster.Front, kind);
}

/// <summary>Nested tunnels and web sessions through nginx as an ALB in passthrough mode, to the TLS port.</summary>
[Collection(HttpAppsCollection.Name)]
public sealed class TlsPortBindingEscapeTests(HttpAppsCluster cluster)
{
    private const string CookieName = "__Host-gatehouse-session";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("raw")]
    [InlineData("websocket")]
    public Task A_tunnel_inside_a_bound_tunnel_is_refused(string kind) =>
        BindingEscapes.NestedTunnelIsRefusedAsync(cluster.Proxy, cluster.AlbPort, cluster.BalancerCa, cluster.HostCa, cluster.Alice, "alice",
            HttpAppsCluster.AlbFront, kind);

    [Fact]
    public async Task A_web_session_of_another_user_inside_a_bound_tunnel_is_refused_and_audited()
    {
        var carolsSession = await SignInAsync("carol");
        using var timeout = new CancellationTokenSource(Deadline);
        var tunnel = await TunnelByHand.WebSocketAsync(cluster.AlbPort, cluster.BalancerCa, cluster.Alice, timeout.Token);
        await using var inner = await TunnelByHand.TlsAsync(tunnel, cluster.HostCa, null, "http/1.1", timeout.Token);

        var answer = await TunnelByHand.GetAsync(inner, "/apps/echo/", [$"Cookie: {CookieName}={carolsSession}"], timeout.Token);

        Assert.Equal(401, answer.Status);
        Assert.DoesNotContain("\"headers\"", answer.Body, StringComparison.Ordinal); // the app never answered
        using var json = JsonDocument.Parse(answer.Body);
        var error = json.RootElement.GetProperty("error").GetString()!;
        Assert.Contains("client certificate of alice", error, StringComparison.Ordinal);
        Assert.Contains("web session in this request is carol's", error, StringComparison.Ordinal);
        var events = await cluster.Proxy.AuditAsync("--type", "tunnel.binding_refused", "--user", "carol");
        var refused = Assert.Single(events, e => e.GetProperty("identity_source").GetString() == "web-session");
        Assert.Equal("alice", refused.GetProperty("details").GetProperty("outer_user").GetString());
        Assert.Equal(HttpAppsCluster.AlbFront, refused.GetProperty("details").GetProperty("front").GetString());
        Assert.Equal(cluster.Alice.Serial, refused.GetProperty("details").GetProperty("outer_serial").GetString(), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_same_users_web_session_inside_a_bound_tunnel_reaches_the_app()
    {
        var session = await SignInAsync("erin");
        var erin = await cluster.Proxy.IssueAsync("erin", "--roles", "web");
        using var timeout = new CancellationTokenSource(Deadline);
        var tunnel = await TunnelByHand.WebSocketAsync(cluster.AlbPort, cluster.BalancerCa, erin, timeout.Token);
        await using var inner = await TunnelByHand.TlsAsync(tunnel, cluster.HostCa, null, "http/1.1", timeout.Token);

        var answer = await TunnelByHand.GetAsync(inner, "/apps/echo/", [$"Cookie: {CookieName}={session}"], timeout.Token);

        Assert.True(answer.Status == 200, $"{answer.Status} {answer.Body}");
        using var json = JsonDocument.Parse(answer.Body);
        var jwt = json.RootElement.GetProperty("headers").GetProperty("gatehouse-jwt-assertion").GetString()!;
        var claims = await AssertionCheck.VerifiedClaimsAsync(cluster, jwt);
        Assert.Equal("erin", claims.GetProperty("sub").GetString());
    }

    /// <summary>Signs <paramref name="user"/> in with the form, straight at the proxy, and returns the session cookie's value.</summary>
    private async Task<string> SignInAsync(string user)
    {
        var (answer, headers) = await cluster.CurlWithHeadersAsync(null, "/.gatehouse/login", null,
            "--data-urlencode", $"user={user}", "--data-urlencode", $"password={ProxyUnderTest.Password}", "--data-urlencode", "then=/apps/echo/");
        Assert.True(answer.Status == 303, answer.ToString());
        var cookie = headers.All("Set-Cookie").Single(c => c.StartsWith(CookieName + "=", StringComparison.Ordinal));
        return cookie[(CookieName.Length + 1)..cookie.IndexOf(';')];
    }
}
