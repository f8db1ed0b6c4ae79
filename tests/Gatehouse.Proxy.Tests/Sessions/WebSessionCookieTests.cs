using System.Buffers.Text;
using System.Security.Cryptography;
using Gatehouse.Pki;
using Gatehouse.Proxy.Sessions;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Tests.Sessions;

/// <summary>The sealed session cookie: what goes in comes out, and nothing else opens — altered, foreign, expired.</summary>
public sealed class WebSessionCookieTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
    private readonly MasterKey _key = MasterKey.FromBytes(RandomNumberGenerator.GetBytes(32), "test");
    private readonly FakeTimeProvider _time = new(Start);

    private static WebSession Session(TimeSpan lifetime) => new(WebSessionCookie.NewSessionId(), new Identity.Identity
    {
        User = "alice",
        Cluster = "apps",
        Roles = ["dev", "ops"],
        Traits = new Dictionary<string, IReadOnlyList<string>> { ["team"] = ["blue"] },
        Logins = ["alice", "ubuntu"],
        IssuedVia = "web-session",
        IssuedAt = Start,
    }, Start, Start + lifetime);

    [Fact]
    public void A_sealed_session_opens_to_the_same_identity_and_times()
    {
        var cookie = new WebSessionCookie(_key, _time);
        var session = Session(TimeSpan.FromHours(1));

        var opened = cookie.Open(cookie.Seal(session), out var problem);

        Assert.Null(problem);
        Assert.NotNull(opened);
        Assert.Equal(session.Id, opened.Id);
        Assert.Equal("alice", opened.Identity.User);
        Assert.Equal(["dev", "ops"], opened.Identity.Roles);
        Assert.Equal(["blue"], opened.Identity.Traits["team"]);
        Assert.Equal(["alice", "ubuntu"], opened.Identity.Logins);
        Assert.Equal(session.IssuedAt, opened.IssuedAt);
        Assert.Equal(session.ExpiresAt, opened.ExpiresAt);
    }

    [Fact]
    public void The_value_is_base64url_and_does_not_show_the_identity()
    {
        var value = new WebSessionCookie(_key, _time).Seal(Session(TimeSpan.FromHours(1)));

        Assert.True(Base64Url.IsValid(value));
        Assert.DoesNotContain('=', value);
        Assert.DoesNotContain("alice", System.Text.Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value)), StringComparison.Ordinal);
        Assert.InRange(value.Length, 1, WebSessionCookie.MaxValueLength);
    }

    [Fact]
    public void It_opens_until_its_expiry_and_not_at_or_after_it()
    {
        var cookie = new WebSessionCookie(_key, _time);
        var value = cookie.Seal(Session(TimeSpan.FromHours(1)));

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.NotNull(cookie.Open(value, out _));

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(cookie.Open(value, out var problem));
        Assert.StartsWith("expired", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_issued_well_in_the_future_is_refused()
    {
        var cookie = new WebSessionCookie(_key, _time);
        var value = cookie.Seal(Session(TimeSpan.FromHours(2)) with { IssuedAt = Start + TimeSpan.FromHours(1) });

        Assert.Null(cookie.Open(value, out var problem));
        Assert.Contains("future", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_altered_value_does_not_open()
    {
        var cookie = new WebSessionCookie(_key, _time);
        var bytes = Base64Url.DecodeFromChars(cookie.Seal(Session(TimeSpan.FromHours(1))));
        bytes[^1] ^= 1;

        Assert.Null(cookie.Open(Base64Url.EncodeToString(bytes), out var problem));
        Assert.Contains("does not unseal", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_clusters_key_does_not_open_it()
    {
        var value = new WebSessionCookie(_key, _time).Seal(Session(TimeSpan.FromHours(1)));
        using var other = MasterKey.FromBytes(RandomNumberGenerator.GetBytes(32), "other");

        Assert.Null(new WebSessionCookie(other, _time).Open(value, out _));
    }

    [Fact]
    public void Something_sealed_with_the_same_key_for_another_purpose_does_not_open()
    {
        var foreign = Base64Url.EncodeToString(_key.Seal("""{"v":1,"session":{}}"""u8, "authority-key"));

        Assert.Null(new WebSessionCookie(_key, _time).Open(foreign, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64 !!")]
    [InlineData("AAAA")]
    public void Garbage_is_refused_without_an_exception(string value)
    {
        Assert.Null(new WebSessionCookie(_key, _time).Open(value, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void A_cookie_that_does_not_open_is_cleared_from_the_browser()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"{WebSessionCookie.Name}=AAAA; theme=dark";

        Assert.Null(new WebSessionCookie(_key, _time).Read(context, out var problem));

        Assert.NotNull(problem);
        var setCookie = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith(WebSessionCookie.Name + "=;", setCookie, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_cookie_is_host_only_secure_httponly_and_lax()
    {
        var context = new DefaultHttpContext();

        WebSessionCookie.Set(context.Response, "v", Start + TimeSpan.FromHours(1));

        var setCookie = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("__Host-gatehouse-session=v;", setCookie, StringComparison.Ordinal);
        Assert.Contains("path=/", setCookie, StringComparison.Ordinal);
        Assert.Contains("secure", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.Ordinal);
        Assert.Contains("samesite=lax", setCookie, StringComparison.Ordinal);
        Assert.DoesNotContain("domain", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("__Host-gatehouse-session=abc; theme=dark; lang=en", "theme=dark; lang=en")]
    [InlineData("theme=dark;__Host-gatehouse-session=abc", "theme=dark")]
    [InlineData("__HOST-GATEHOUSE-SESSION=abc; a=b", "a=b")]
    [InlineData("__Host-gatehouse-session=abc", null)]
    [InlineData("a=b; c", "a=b; c")]
    public void The_session_cookie_is_taken_out_of_a_cookie_header_and_the_rest_kept(string header, string? expected) =>
        Assert.Equal(expected, WebSessionCookie.WithoutSessionCookie([header]));

    [Fact]
    public void Every_cookie_header_is_cleaned() =>
        Assert.Equal("a=b; c=d", WebSessionCookie.WithoutSessionCookie(["a=b; __Host-gatehouse-session=x", "__Host-gatehouse-session=y; c=d"]));

    public void Dispose() => _key.Dispose();
}
