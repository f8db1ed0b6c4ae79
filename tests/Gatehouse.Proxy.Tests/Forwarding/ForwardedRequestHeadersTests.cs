using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Proxy.Forwarding;

namespace Gatehouse.Proxy.Tests.Forwarding;

/// <summary>What a forwarded request (HTTP app or Kubernetes API) loses before it leaves the proxy.</summary>
public sealed class ForwardedRequestHeadersTests
{
    private static readonly IReadOnlySet<string> CertificateHeaderNames = ForwardedCertificateOptions.None.CertificateHeaderNames;

    [Theory]
    [InlineData("Impersonate-User")]
    [InlineData("Impersonate_User")]
    [InlineData("impersonate_group")]
    [InlineData("Impersonate_Extra_scopes")]
    [InlineData("Impersonate-Uid")]
    [InlineData("Gatehouse-Jwt-Assertion")]
    [InlineData("Gatehouse_Jwt_Assertion")]
    [InlineData("gatehouse-jwt_assertion")]
    [InlineData("X_Forwarded_For")]
    [InlineData("X-Forwarded_Host")]
    [InlineData("x_forwarded_proto")]
    [InlineData("X_Forwarded_Prefix")]
    [InlineData("Forwarded")]
    [InlineData("X_Amzn_Mtls_Clientcert")]
    [InlineData("X_Amzn_Mtls_Clientcert_Leaf")]
    [InlineData("X_Forwarded_Client_Cert")]
    [InlineData("Client_Cert")]
    [InlineData("X_Ssl_Client_Cert")]
    public void Headers_the_proxy_owns_are_removed_in_any_spelling_a_CGI_server_would_read_as_them(string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://app.example/");
        request.Headers.TryAddWithoutValidation(name, "from-the-client");
        request.Headers.TryAddWithoutValidation("X_App_Header", "kept");

        ForwardedRequestHeaders.RemoveUntrusted(request, CertificateHeaderNames);

        Assert.Equal(["X_App_Header"], request.Headers.Select(h => h.Key));
    }

    [Fact]
    public void Every_known_certificate_header_name_is_matched_with_underscores()
    {
        foreach (var name in ForwardedCertificateFormats.AllDefaultHeaderNames)
            Assert.Contains(name.Replace('-', '_'), CertificateHeaderNames);
        Assert.DoesNotContain("X-Amzn-Mtls-Clientcertificate", CertificateHeaderNames);
        Assert.False(FoldedHeaderNameComparer.StartsWith("Impersonat", "Impersonate-"));
    }

    [Fact]
    public void X_Forwarded_For_carries_the_claims_then_the_client_the_proxy_vouches_for()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://app.example/");

        ForwardedRequestHeaders.AddForwarded(request, ["198.51.100.1", "192.0.2.1"], System.Net.IPAddress.Parse("203.0.113.7"), "echo.example", "/apps/echo");

        Assert.Equal("198.51.100.1, 192.0.2.1, 203.0.113.7", Assert.Single(request.Headers.GetValues("X-Forwarded-For")));
        Assert.Equal("https", Assert.Single(request.Headers.GetValues("X-Forwarded-Proto")));
        Assert.Equal("echo.example", Assert.Single(request.Headers.GetValues("X-Forwarded-Host")));
        Assert.Equal("/apps/echo", Assert.Single(request.Headers.GetValues("X-Forwarded-Prefix")));
    }
}
