using Gatehouse.Proxy.Resources;
using System.Text;
using System.Text.Json;
using Gatehouse.Pki;
using Gatehouse.Proxy.Apps;

namespace Gatehouse.Proxy.Tests.Apps;

/// <summary>An app's assertion is reused only for the very same claims, and only while more than half its life is left.</summary>
public sealed class IdentityAssertionCacheTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
    private const string Issuer = "https://gatehouse.example";
    private readonly FakeTimeProvider _time = new(Start);
    private readonly JwtSigningKey _key = JwtSigningKey.Generate();
    private static readonly HttpApp Wiki = new("wiki", new Uri("http://127.0.0.1:8080/"), null, new Dictionary<string, string>(), false);
    private static readonly HttpApp Grafana = new("grafana", new Uri("http://127.0.0.1:3000/"), null, new Dictionary<string, string>(), false);

    private static Identity.Identity User(string name, params string[] roles) => new() { User = name, Cluster = "c", Roles = roles };

    private static JsonElement Claims(string token) =>
        JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(Pad(token.Split('.')[1].Replace('-', '+').Replace('_', '/'))))).RootElement;

    private static string Pad(string base64) => base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');

    [Fact]
    public void The_same_claims_reuse_the_token_until_half_its_lifetime_is_gone()
    {
        var cache = new IdentityAssertionCache(_time);
        var notAfter = Start + TimeSpan.FromHours(8);
        var first = cache.Get(_key, Issuer, User("alice", "dev"), Wiki, notAfter);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Same(first, cache.Get(_key, Issuer, User("alice", "dev"), Wiki, notAfter));

        _time.Advance(TimeSpan.FromSeconds(30)); // 2.5 of 5 minutes gone: a new one
        var second = cache.Get(_key, Issuer, User("alice", "dev"), Wiki, notAfter);
        Assert.NotEqual(first, second);
        Assert.Equal((Start + TimeSpan.FromMinutes(7.5)).ToUnixTimeSeconds(), Claims(second).GetProperty("exp").GetInt64());
    }

    [Fact]
    public void Any_other_claim_is_another_token()
    {
        var cache = new IdentityAssertionCache(_time);
        var notAfter = Start + TimeSpan.FromHours(8);
        var token = cache.Get(_key, Issuer, User("alice", "dev"), Wiki, notAfter);
        Assert.NotSame(token, cache.Get(_key, Issuer, User("bob", "dev"), Wiki, notAfter));
        Assert.NotSame(token, cache.Get(_key, Issuer, User("alice", "dev", "ops"), Wiki, notAfter));
        Assert.NotSame(token, cache.Get(_key, Issuer, User("alice", "dev,ops"), Wiki, notAfter));
        Assert.NotSame(token, cache.Get(_key, Issuer, User("alice", "dev"), Grafana, notAfter));
        Assert.NotSame(token, cache.Get(_key, Issuer, User("alice", "dev"), Wiki, notAfter + TimeSpan.FromSeconds(1)));
        using var rotated = JwtSigningKey.Generate();
        Assert.NotSame(token, cache.Get(rotated, Issuer, User("alice", "dev"), Wiki, notAfter));
        Assert.Equal("ops", Claims(cache.Get(_key, Issuer, User("alice", "dev", "ops"), Wiki, notAfter)).GetProperty("roles")[1].GetString());
    }

    [Fact]
    public void A_token_never_outlives_the_certificate_and_the_cache_stays_bounded()
    {
        var cache = new IdentityAssertionCache(_time, capacity: 3);
        var notAfter = Start + TimeSpan.FromMinutes(1);
        var token = cache.Get(_key, Issuer, User("carol"), Wiki, notAfter);
        Assert.Equal(notAfter.ToUnixTimeSeconds(), Claims(token).GetProperty("exp").GetInt64());
        _time.Advance(TimeSpan.FromSeconds(31)); // half of its one-minute life: re-signed
        Assert.NotSame(token, cache.Get(_key, Issuer, User("carol"), Wiki, notAfter));

        for (var i = 0; i < 10; i++) cache.Get(_key, Issuer, User($"user{i}"), Wiki, Start + TimeSpan.FromHours(1));
        Assert.InRange(cache.Count, 1, 3);
    }

    public void Dispose() => _key.Dispose();
}
