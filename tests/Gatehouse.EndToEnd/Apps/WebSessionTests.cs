using System.Globalization;
using System.Text.Json;

namespace Gatehouse.EndToEnd.Apps;

/// <summary>
/// Browsers without a client certificate: the sign-in form at /.gatehouse/login, the session cookie it sets, and what that
/// cookie is (an identity for HTTP apps, invisible to them) and is not (an identity for Kubernetes, tunnels or /v1/*).
/// curl plays the browser, with a cookie jar and Accept: text/html.
/// </summary>
[Collection(HttpAppsCollection.Name)]
public sealed class WebSessionTests(HttpAppsCluster cluster)
{
    private const string CookieName = "__Host-gatehouse-session";
    private static readonly string[] Browser = ["-H", "Accept: text/html,application/xhtml+xml"];

    private string NewJar() => cluster.Proxy.File($"jar-{Guid.NewGuid():N}.txt");

    private Task<(HttpAnswer Answer, ResponseHeaders Headers)> SignInAsync(string jar, string user, string password, string then = "/apps/echo/",
        params string[] options) =>
        cluster.CurlWithHeadersAsync(null, "/.gatehouse/login", null, ["-c", jar, "-b", jar, .. Browser,
            "--data-urlencode", $"user={user}", "--data-urlencode", $"password={password}", "--data-urlencode", $"then={then}", .. options]);

    private static string? SessionCookieIn(ResponseHeaders headers) =>
        headers.All("Set-Cookie").FirstOrDefault(c => c.StartsWith(CookieName + "=", StringComparison.Ordinal));

    /// <summary>The session cookie's value as the jar holds it (curl marks HttpOnly cookies with a #HttpOnly_ prefix).</summary>
    private static async Task<string> JarValueAsync(string jar) =>
        (await File.ReadAllLinesAsync(jar)).Select(l => l.Split('\t')).Single(f => f.Length == 7 && f[5] == CookieName)[6];

    [Fact]
    public async Task A_browser_is_sent_to_the_form_signs_in_and_reaches_the_app_with_a_verified_assertion_and_without_the_session_cookie()
    {
        var jar = NewJar();

        // 1. No identity: to the form on this host, with the way back.
        var (first, firstHeaders) = await cluster.CurlWithHeadersAsync(null, "/apps/echo/page?x=1", null, Browser);
        Assert.True(first.Status == 302, first.ToString());
        Assert.Equal("/.gatehouse/login?then=%2Fapps%2Fecho%2Fpage%3Fx%3D1", firstHeaders.Get("Location"));

        var form = await cluster.CurlDirectAsync("/.gatehouse/login?then=%2Fapps%2Fecho%2Fpage%3Fx%3D1", null, Browser);
        Assert.True(form.Status == 200, form.ToString());
        Assert.Contains("""<form method="post" action="/.gatehouse/login">""", form.Body, StringComparison.Ordinal);
        Assert.Contains("""name="then" value="/apps/echo/page?x=1">""", form.Body, StringComparison.Ordinal);

        // 2. The form: a host-only, Secure, HttpOnly, Lax cookie for at most the role's max_session_ttl (30m), and back.
        var before = DateTimeOffset.UtcNow;
        var (signIn, headers) = await SignInAsync(jar, "erin", ProxyUnderTest.Password, "/apps/echo/page?x=1");
        Assert.True(signIn.Status == 303, signIn.ToString());
        Assert.Equal("/apps/echo/page?x=1", headers.Get("Location"));
        var setCookie = SessionCookieIn(headers);
        Assert.NotNull(setCookie);
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("path=/", attributes);
        Assert.Contains("secure", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=lax", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("domain", StringComparison.Ordinal));
        var expires = DateTimeOffset.Parse(attributes.Single(a => a.StartsWith("expires=", StringComparison.Ordinal))["expires=".Length..],
            CultureInfo.InvariantCulture);
        Assert.InRange(expires, before.AddMinutes(29), DateTimeOffset.UtcNow.AddMinutes(30).AddSeconds(1));

        // 3. The app: who (a JWT it can verify), never the session cookie; its own cookie does reach it.
        var setByApp = await cluster.CurlDirectAsync("/apps/echo/page?x=1&set_cookie=1", null, ["-c", jar, "-b", jar, .. Browser]);
        Assert.True(setByApp.Status == 200, setByApp.ToString());
        var answer = await cluster.CurlDirectAsync("/apps/echo/again", null, ["-c", jar, "-b", jar, .. Browser]);
        Assert.True(answer.Status == 200, answer.ToString());
        Assert.Equal("/again", answer.Get("path"));
        Assert.Equal("app_session=from-the-app", answer.Headers["cookie"]);
        Assert.DoesNotContain(CookieName, answer.Body, StringComparison.OrdinalIgnoreCase);
        var claims = await AssertionCheck.VerifiedClaimsAsync(cluster, answer.Headers["gatehouse-jwt-assertion"]);
        Assert.Equal("erin", claims.GetProperty("sub").GetString());
        Assert.Equal(["web"], claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.InRange(claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64(), 1, 300);

        // 4. The audit: the sign-in and the decision, both as a web session, tied by the session id (erin signs in only here,
        //    so the first decision, the one a throttled minute keeps, is this session's).
        var login = (await cluster.Proxy.AuditAsync("--type", "user.login", "--user", "erin"))
            .First(e => e.GetProperty("identity_source").GetString() == "web-session");
        var sessionId = login.GetProperty("details").GetProperty("session").GetString();
        var decisions = await cluster.Proxy.AuditAsync("--type", "access.decision", "--user", "erin");
        Assert.Contains(decisions, e => e.GetProperty("identity_source").GetString() == "web-session"
            && e.GetProperty("resource").GetString() == "http-app:echo" && e.GetProperty("decision").GetString() == "allowed"
            && e.GetProperty("details").GetProperty("session").GetString() == sessionId);
    }

    [Fact]
    public async Task An_app_cannot_set_the_proxys_session_cookie_so_the_browser_keeps_its_own()
    {
        var jar = NewJar();
        Assert.Equal(303, (await SignInAsync(jar, "grace", ProxyUnderTest.Password)).Answer.Status);
        var session = await JarValueAsync(jar);

        // The app answers with the proxy's session cookie (two spellings) besides its own: session fixation (issue 11).
        var (answer, headers) = await cluster.CurlWithHeadersAsync(null, "/apps/echo/page?set_cookie=1&set_proxy_cookie=1", null,
            ["-c", jar, "-b", jar, .. Browser]);

        Assert.True(answer.Status == 200, answer.ToString());
        Assert.Equal(["app_session=from-the-app; Path=/"], headers.All("Set-Cookie"));
        Assert.Equal(session, await JarValueAsync(jar));
        Assert.DoesNotContain(HeaderEchoApp.ProxyCookieValue, await File.ReadAllTextAsync(jar), StringComparison.Ordinal);
        var again = await cluster.CurlDirectAsync("/apps/echo/again", null, ["-c", jar, "-b", jar, .. Browser]);
        Assert.True(again.Status == 200, again.ToString());
        Assert.Equal("app_session=from-the-app", again.Headers["cookie"]);
        await cluster.Proxy.WaitForOutputAsync("http-app:echo answered with Set-Cookie for the proxy's own cookie __Host-gatehouse-session");
    }

    [Fact]
    public async Task A_wrong_password_shows_the_form_again_with_the_error_and_is_audited()
    {
        var jar = NewJar();

        var (answer, headers) = await SignInAsync(jar, "carol", "not the password");

        Assert.True(answer.Status == 401, answer.ToString());
        Assert.Contains("invalid user name, password or one-time code", answer.Body, StringComparison.Ordinal);
        Assert.Contains("""name="user" autocomplete="username" required autofocus value="carol">""", answer.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("not the password", answer.Body, StringComparison.Ordinal);
        Assert.Null(SessionCookieIn(headers));
        var failures = await cluster.Proxy.AuditAsync("--type", "user.login.failed", "--user", "carol");
        Assert.Contains(failures, e => e.GetProperty("identity_source").GetString() == "web-session" && e.GetProperty("decision").GetString() == "denied");
        Assert.DoesNotContain("not the password", cluster.Proxy.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("//evil.example")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example")]
    public async Task After_sign_in_the_browser_goes_only_to_a_path_on_this_host(string then)
    {
        var (answer, headers) = await SignInAsync(NewJar(), "carol", ProxyUnderTest.Password, then);

        Assert.True(answer.Status == 303, answer.ToString());
        Assert.Equal("/", headers.Get("Location"));
    }

    [Fact]
    public async Task A_sign_in_posted_from_another_origin_is_refused()
    {
        var (foreign, headers) = await SignInAsync(NewJar(), "carol", ProxyUnderTest.Password, "/apps/echo/", "-H", "Origin: https://evil.example");

        Assert.True(foreign.Status == 403, foreign.ToString());
        Assert.Contains("Cross-site request refused", foreign.Body, StringComparison.Ordinal);
        Assert.Null(SessionCookieIn(headers));

        var (own, _) = await SignInAsync(NewJar(), "carol", ProxyUnderTest.Password, "/apps/echo/", "-H", $"Origin: https://127.0.0.1:{cluster.Proxy.Port}");
        Assert.True(own.Status == 303, own.ToString());
    }

    [Fact]
    public async Task A_tampered_cookie_is_ignored_and_cleared()
    {
        var jar = NewJar();
        Assert.Equal(303, (await SignInAsync(jar, "carol", ProxyUnderTest.Password)).Answer.Status);
        var value = await JarValueAsync(jar);
        var tampered = value[..20] + (value[20] == 'A' ? 'B' : 'A') + value[21..];

        var (api, headers) = await cluster.CurlWithHeadersAsync(null, "/apps/echo/", null, "-H", $"Cookie: {CookieName}={tampered}");
        Assert.True(api.Status == 401, api.ToString());
        Assert.Contains("no client certificate", api.Get("error"), StringComparison.Ordinal);
        Assert.Contains(headers.All("Set-Cookie"), c => c.StartsWith(CookieName + "=;", StringComparison.Ordinal)
            && c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase));

        var (page, pageHeaders) = await cluster.CurlWithHeadersAsync(null, "/apps/echo/", null, ["-H", $"Cookie: {CookieName}={tampered}", .. Browser]);
        Assert.True(page.Status == 302, page.ToString());
        Assert.StartsWith("/.gatehouse/login?then=", pageHeaders.Get("Location"), StringComparison.Ordinal);

        var untouched = await cluster.CurlDirectAsync("/apps/echo/", null, "-H", $"Cookie: {CookieName}={value}");
        Assert.True(untouched.Status == 200, untouched.ToString());
    }

    [Fact]
    public async Task Signing_out_clears_the_cookie_and_is_audited()
    {
        var jar = NewJar();
        Assert.Equal(303, (await SignInAsync(jar, "frank", ProxyUnderTest.Password)).Answer.Status);
        Assert.Equal(200, (await cluster.CurlDirectAsync("/apps/echo/", null, "-b", jar)).Status);

        var (answer, headers) = await cluster.CurlWithHeadersAsync(null, "/.gatehouse/logout", null, ["-X", "POST", "-c", jar, "-b", jar, .. Browser]);

        Assert.True(answer.Status == 303, answer.ToString());
        Assert.Equal("/.gatehouse/login?signed_out=1", headers.Get("Location"));
        Assert.Contains(headers.All("Set-Cookie"), c => c.StartsWith(CookieName + "=;", StringComparison.Ordinal));
        Assert.Equal(401, (await cluster.CurlDirectAsync("/apps/echo/", null, "-b", jar)).Status);
        Assert.Equal(405, (await cluster.CurlDirectAsync("/.gatehouse/logout", null, Browser)).Status);
        var sessionId = (await cluster.Proxy.AuditAsync("--type", "user.login", "--user", "frank")).Single().GetProperty("details").GetProperty("session").GetString();
        var logout = Assert.Single(await cluster.Proxy.AuditAsync("--type", "user.logout", "--user", "frank"));
        Assert.Equal("web-session", logout.GetProperty("identity_source").GetString());
        Assert.Equal(sessionId, logout.GetProperty("details").GetProperty("session").GetString());
    }

    [Fact]
    public async Task The_session_is_no_identity_for_kubernetes_tunnels_or_the_api()
    {
        var jar = NewJar();
        Assert.Equal(303, (await SignInAsync(jar, "carol", ProxyUnderTest.Password)).Answer.Status);
        Assert.Equal(200, (await cluster.CurlDirectAsync("/apps/echo/", null, "-b", jar)).Status);

        var kube = await cluster.CurlDirectAsync($"/kube/{HttpAppsCluster.KubeCluster}/api/v1/pods", null, "-b", jar);
        Assert.True(kube.Status == 401, kube.ToString());
        Assert.Contains("no client certificate", kube.Body, StringComparison.Ordinal);

        var whoami = await cluster.CurlDirectAsync("/v1/whoami", null, "-b", jar);
        Assert.True(whoami.Status == 401, whoami.ToString());

        // A tunnel authenticates inside (the inner TLS); the cookie changes nothing about the HTTP answer.
        var tunnelWithout = await cluster.CurlDirectAsync("/v1/tunnel", null);
        var tunnelWith = await cluster.CurlDirectAsync("/v1/tunnel", null, "-b", jar);
        Assert.Equal(tunnelWithout.Status, tunnelWith.Status);
        Assert.Equal(tunnelWithout.Body, tunnelWith.Body);
        Assert.NotEqual(101, tunnelWith.Status);
    }

    [Fact]
    public async Task A_role_that_does_not_allow_the_app_gets_403_with_the_reason()
    {
        var jar = NewJar();
        Assert.Equal(303, (await SignInAsync(jar, "dave", ProxyUnderTest.Password)).Answer.Status);

        var page = await cluster.CurlDirectAsync("/apps/echo/", null, ["-b", jar, .. Browser]);
        Assert.True(page.Status == 403, page.ToString());
        Assert.Contains("<h1>Access denied</h1>", page.Body, StringComparison.Ordinal);
        var api = await cluster.CurlDirectAsync("/apps/echo/", null, "-b", jar);
        Assert.True(api.Status == 403, api.ToString());
        Assert.Contains("echo", api.Get("error"), StringComparison.Ordinal);

        var audit = await cluster.Proxy.AuditAsync("--type", "access.decision", "--user", "dave");
        Assert.Contains(audit, e => e.GetProperty("identity_source").GetString() == "web-session"
            && e.GetProperty("resource").GetString() == "http-app:echo" && e.GetProperty("decision").GetString() == "denied");
    }

    [Fact]
    public async Task On_an_apps_own_host_name_the_form_and_the_cookie_work_there()
    {
        const string host = "echo." + HttpAppsCluster.PublicName;
        var jar = NewJar();

        var (first, firstHeaders) = await cluster.CurlWithHeadersAsync(host, "/dash?a=b", null, Browser);
        Assert.True(first.Status == 302, first.ToString());
        Assert.Equal("/.gatehouse/login?then=%2Fdash%3Fa%3Db", firstHeaders.Get("Location"));

        var (signIn, headers) = await cluster.CurlWithHeadersAsync(host, "/.gatehouse/login", null, ["-c", jar, "-b", jar, .. Browser,
            "--data-urlencode", "user=carol", "--data-urlencode", $"password={ProxyUnderTest.Password}", "--data-urlencode", "then=/dash?a=b"]);
        Assert.True(signIn.Status == 303, signIn.ToString());
        Assert.Equal("/dash?a=b", headers.Get("Location"));
        Assert.NotNull(SessionCookieIn(headers));

        var answer = await cluster.CurlAtHostAsync(host, "/dash?a=b", null, ["-b", jar, .. Browser]);
        Assert.True(answer.Status == 200, answer.ToString());
        Assert.Equal("/dash", answer.Get("path"));
        Assert.False(answer.Headers.ContainsKey("cookie"), answer.ToString());
        // Host-only: the browser does not offer the cookie to the proxy's other names.
        Assert.Equal(401, (await cluster.CurlDirectAsync("/apps/echo/", null, "-b", jar)).Status);
    }
}
