using Gatehouse.Proxy.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Tests.Forwarding;

/// <summary>An app's (or API server's) answer never sets the proxy's own cookies (issue 11).</summary>
public sealed class ProxyCookieFilterTests
{
    private readonly RecordingLogger<ProxyCookieFilter> _log = new();

    private static HttpResponse Response(params string[] setCookies)
    {
        var context = new DefaultHttpContext();
        foreach (var line in setCookies) context.Response.Headers.Append("Set-Cookie", line);
        return context.Response;
    }

    [Theory]
    [InlineData("__Host-gatehouse-session=fixed; Path=/; Secure; HttpOnly")]
    [InlineData("__Secure-gatehouse-session=fixed; Secure")]
    [InlineData("gatehouse-session=fixed")]
    [InlineData("__HOST-Gatehouse-Session=fixed; Path=/; Secure")]
    [InlineData(" __Host-gatehouse-session =fixed; Path=/; Secure")]
    [InlineData("=gatehouse-session=fixed")] // nameless: the browser sends it back as gatehouse-session=fixed
    [InlineData("__Host-gatehouse-session")]
    public void A_set_cookie_naming_a_proxy_cookie_is_dropped_and_the_apps_own_pass(string line)
    {
        var response = Response("app_session=from-the-app; Path=/", line, "gatehouse-session-theme=dark");

        new ProxyCookieFilter(_log).RemoveProxyCookies(response, "http-app:echo");

        Assert.Equal(["app_session=from-the-app; Path=/", "gatehouse-session-theme=dark"], (IEnumerable<string?>)response.Headers.SetCookie);
    }

    [Fact]
    public void Only_proxy_cookies_leave_nothing_behind_and_a_response_without_them_is_untouched()
    {
        var only = Response("__Host-gatehouse-session=fixed; Path=/; Secure");
        var none = Response("a=1", "my__Host-gatehouse-session=2");
        var filter = new ProxyCookieFilter(_log);

        filter.RemoveProxyCookies(only, "http-app:echo");
        filter.RemoveProxyCookies(none, "http-app:echo");

        Assert.False(only.Headers.ContainsKey("Set-Cookie"));
        Assert.Equal(["a=1", "my__Host-gatehouse-session=2"], (IEnumerable<string?>)none.Headers.SetCookie);
    }

    [Fact]
    public void Each_resource_is_reported_once_at_warning_so_its_owner_can_be_told()
    {
        var filter = new ProxyCookieFilter(_log);

        for (var i = 0; i < 3; i++) filter.RemoveProxyCookies(Response("__Host-gatehouse-session=fixed"), "http-app:echo");
        filter.RemoveProxyCookies(Response("__Host-gatehouse-session=fixed"), "kube:dev");

        Assert.Equal(["http-app:echo", "kube:dev"], _log.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message.Split(' ')[0]));
        Assert.Equal(2, _log.Lines.Count(l => l.Level == LogLevel.Debug));
        Assert.Contains("__Host-gatehouse-session", _log.Lines.First().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_proxy_reads_its_cookie_in_any_letter_case_which_is_why_case_variants_count_as_its_own()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = "__HOST-GATEHOUSE-SESSION=set-by-an-app";

        Assert.Equal("set-by-an-app", context.Request.Cookies[Gatehouse.Proxy.Sessions.WebSessionCookie.Name]);
    }
}
