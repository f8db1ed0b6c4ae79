namespace Gatehouse.Pki.Revocation;

/// <summary>The HTTP client for revocation servers (CRL URLs, OCSP responders).</summary>
internal static class RevocationHttp
{
    /// <summary>No cookies, no decompression, a few redirects, a connect timeout below each request's own; requests set
    /// their own overall timeout.</summary>
    public static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 3,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
