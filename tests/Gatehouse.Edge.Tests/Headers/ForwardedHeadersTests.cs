using System.Net;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Headers;
using Gatehouse.Edge.Routing;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Edge.Tests.Headers;

/// <summary>The header rules on their own: XFF in its three modes (spec §1.9), forged mTLS headers in any spelling, and the
/// rule wildcards.</summary>
public sealed class ForwardedHeadersTests
{
    [Theory]
    [InlineData("append", false, "203.0.113.9, 198.51.100.7")]
    [InlineData("append", true, "203.0.113.9, 198.51.100.7:50123")]
    [InlineData("preserve", false, "203.0.113.9")]
    [InlineData("remove", false, null)]
    public void X_forwarded_for_follows_the_mode(string mode, bool withPort, string? expected)
    {
        var headers = new HeaderDictionary { ["X-Forwarded-For"] = "203.0.113.9", ["X-Forwarded-Proto"] = "http", ["X-Forwarded-Port"] = "1" };
        ForwardedHeaders.AddForwarded(headers, Enum.Parse<XffMode>(mode, ignoreCase: true), withPort, IPAddress.Parse("::ffff:198.51.100.7"), 50123, 443);

        Assert.Equal(expected, headers.TryGetValue("X-Forwarded-For", out var xff) ? xff.ToString() : null);
        Assert.Equal("https", headers["X-Forwarded-Proto"].ToString());
        Assert.Equal("443", headers["X-Forwarded-Port"].ToString());
    }

    [Fact]
    public void Every_spelling_of_default_and_renamed_mtls_headers_is_stripped_and_nothing_else()
    {
        var names = ForwardedHeaders.StrippedNames(MtlsHeaderNames.Default with { Leaf = "X-Leaf" });
        var headers = new HeaderDictionary
        {
            ["x-amzn-mtls-clientcert"] = "a", ["X_Amzn_Mtls_Clientcert_Serial_Number"] = "b", ["X-AMZN-MTLS-CLIENTCERT-LEAF"] = "c", ["x_leaf"] = "d",
            ["X-Amzn-Trace-Id"] = "kept", ["X-Amzn-Mtls-Clientcert-Other"] = "kept",
        };
        Assert.Equal(4, ForwardedHeaders.Strip(headers, names));
        Assert.Equal(["X-Amzn-Mtls-Clientcert-Other", "X-Amzn-Trace-Id"], headers.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("/api/*", "/api/", true)]
    [InlineData("/api/*", "/api", false)]
    [InlineData("/v?/x", "/v2/x", true)]
    [InlineData("/v?/x", "/v22/x", false)]
    [InlineData("*.example.com", "a.b.example.com", true)]
    [InlineData("/*.png", "/img/a.png", true)]
    public void Wildcards_match_as_alb_conditions(string pattern, string text, bool matches) =>
        Assert.Equal(matches, ListenerRules.Wildcard(pattern, text, ignoreCase: false));
}
