namespace Gatehouse.EndToEnd.Apps;

/// <summary>
/// Apps reached by host name rather than /apps/NAME/ — <c>NAME.&lt;public name&gt;</c> and the app's public_host, with curl
/// resolving the name to the proxy (SNI and Host are that name; the host certificate must cover it) — and
/// rewrite_redirects, which moves an app's redirects to itself back under /apps/NAME/.
/// </summary>
[Collection(HttpAppsCollection.Name)]
public sealed class HostRoutingTests(HttpAppsCluster cluster)
{
    [Theory]
    [InlineData("echo." + HttpAppsCluster.PublicName)]
    [InlineData(HttpAppsCluster.EchoPublicHost)]
    public async Task An_app_is_reached_by_its_host_name_with_the_whole_path_its_own(string host)
    {
        var answer = await cluster.CurlAtHostAsync(host, "/apps/hello?x=1", cluster.Alice);

        Assert.True(answer.Status == 200, answer.ToString());
        Assert.Equal("/apps/hello", answer.Get("path"));
        Assert.Equal("?x=1", answer.Get("query"));
        Assert.Equal($"{host}:{cluster.Proxy.Port}", answer.Headers["x-forwarded-host"]);
        Assert.False(answer.Headers.ContainsKey("x-forwarded-prefix"), answer.ToString());
        var claims = await AssertionCheck.VerifiedClaimsAsync(cluster, answer.Headers["gatehouse-jwt-assertion"]);
        Assert.Equal("alice", claims.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task By_host_name_the_roles_still_decide_and_no_identity_is_401()
    {
        const string host = "echo." + HttpAppsCluster.PublicName;

        var denied = await cluster.CurlAtHostAsync(host, "/", cluster.Bob);
        Assert.True(denied.Status == 403, denied.ToString());

        var anonymous = await cluster.CurlAtHostAsync(host, "/", null);
        Assert.True(anonymous.Status == 401, anonymous.ToString());
        Assert.Contains("no client certificate", anonymous.Get("error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_under_the_public_name_that_is_no_app_is_the_proxys_own()
    {
        var answer = await cluster.CurlAtHostAsync("nothing." + HttpAppsCluster.PublicName, "/v1/ping", null);

        Assert.True(answer.Status == 200, answer.ToString());
    }

    [Theory]
    [InlineData(true, "/target?q=1")]
    [InlineData(false, "/target?q=1")]
    public async Task Rewrite_redirects_moves_a_path_absolute_redirect_under_the_prefix_only_when_asked(bool rewrite, string to)
    {
        var (answer, headers) = await RedirectAsync(rewrite ? "echo-rw" : "echo", to);

        Assert.True(answer.Status == 302, answer.ToString());
        Assert.Equal(rewrite ? "/apps/echo-rw/target?q=1" : "/target?q=1", headers.Get("Location"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rewrite_redirects_moves_an_absolute_redirect_to_the_app_under_the_prefix_only_when_asked(bool rewrite)
    {
        var to = $"{cluster.Echo.Url}/deep/page?q=2";

        var (answer, headers) = await RedirectAsync(rewrite ? "echo-rw" : "echo", to);

        Assert.True(answer.Status == 302, answer.ToString());
        Assert.Equal(rewrite ? "/apps/echo-rw/deep/page?q=2" : to, headers.Get("Location"));
    }

    [Fact]
    public async Task Rewrite_redirects_leaves_redirects_elsewhere_and_by_host_name_alone()
    {
        var (elsewhere, elsewhereHeaders) = await RedirectAsync("echo-rw", "https://idp.example/authorize?x=1");
        Assert.True(elsewhere.Status == 302, elsewhere.ToString());
        Assert.Equal("https://idp.example/authorize?x=1", elsewhereHeaders.Get("Location"));

        var (byHost, byHostHeaders) = await cluster.CurlWithHeadersAsync("echo-rw." + HttpAppsCluster.PublicName, "/redirect", cluster.Alice,
            "-G", "--data-urlencode", "to=/target");
        Assert.True(byHost.Status == 302, byHost.ToString());
        Assert.Equal("/target", byHostHeaders.Get("Location"));
    }

    private Task<(HttpAnswer Answer, ResponseHeaders Headers)> RedirectAsync(string app, string to) =>
        cluster.CurlWithHeadersAsync(null, $"/apps/{app}/redirect", cluster.Alice, "-G", "--data-urlencode", $"to={to}");
}
