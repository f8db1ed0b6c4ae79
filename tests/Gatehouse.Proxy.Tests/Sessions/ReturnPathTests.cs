using Gatehouse.Proxy.Sessions;

namespace Gatehouse.Proxy.Tests.Sessions;

/// <summary>Where a sign-in may send the browser: a path on the same host, nothing else (no open redirect).</summary>
public sealed class ReturnPathTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/apps/echo/", "/apps/echo/")]
    [InlineData("/apps/echo/page?x=1&y=%2F", "/apps/echo/page?x=1&y=%2F")]
    [InlineData("/a//b", "/a//b")]
    public void A_same_host_path_is_kept(string then, string expected) => Assert.Equal(expected, ReturnPath.Sanitize(then));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("//evil.example")]
    [InlineData("//evil.example/path")]
    [InlineData("/\\evil.example")]
    [InlineData("/\t/evil.example")]
    [InlineData("/\n/evil.example")]
    [InlineData("https://evil.example/")]
    [InlineData("javascript:alert(1)")]
    [InlineData("evil.example")]
    [InlineData("/path with space")]
    [InlineData("/caf\u00e9")]
    [InlineData("/a\\b")]
    [InlineData("/.gatehouse/login?then=//evil.example")]
    public void Anything_else_becomes_the_root(string? then) => Assert.Equal("/", ReturnPath.Sanitize(then));
}
