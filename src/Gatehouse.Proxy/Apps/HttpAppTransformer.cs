using System.Net;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// What an app's request and response look like on the far side of the proxy. One per request (it carries that request's
/// assertion and client address). YARP's base transform has copied the headers minus hop-by-hop ones; this removes what
/// the app must never see or could be fooled by, and adds who is asking; from the answer it drops any Set-Cookie for the
/// proxy's own cookies (<see cref="ProxyCookieFilter"/>).
/// </summary>
internal sealed class HttpAppTransformer(HttpAppMatch match, string assertion, IPAddress client, IReadOnlySet<string> certificateHeaderNames,
    ProxyCookieFilter cookies) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
        CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, match.RemainingPath, httpContext.Request.QueryString);
        // The app's own host name, as if it were called directly; the name the user typed goes in X-Forwarded-Host.
        proxyRequest.Headers.Host = null;

        ForwardedRequestHeaders.RemoveUntrusted(proxyRequest, certificateHeaderNames);
        ForwardedRequestHeaders.AddForwarded(proxyRequest, httpContext.Features.Get<RequestIdentityFeature>()?.ClaimedForwardedFor ?? [], client,
            httpContext.Request.Host.Value ?? "", match.ByPathPrefix ? match.App.PathPrefix : null);
        proxyRequest.Headers.TryAddWithoutValidation(IdentityAssertion.HeaderName, assertion);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        var result = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        cookies.RemoveProxyCookies(httpContext.Response, match.App.Resource);
        if (match.ByPathPrefix && match.App.RewriteRedirects && proxyResponse?.Headers.Location is { } location
            && RewriteLocation(location) is { } rewritten)
            httpContext.Response.Headers.Location = rewritten;
        return result;
    }

    /// <summary>A redirect to the app itself (absolute at its URI, or path-absolute) moved back under /apps/NAME/; others
    /// (to an identity provider, say) untouched.</summary>
    private string? RewriteLocation(Uri location)
    {
        var appUri = match.App.Uri;
        var basePath = appUri.AbsolutePath.TrimEnd('/');
        string pathAndQuery;
        if (location.IsAbsoluteUri)
        {
            if (Uri.Compare(location, appUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0) return null;
            pathAndQuery = location.PathAndQuery + location.Fragment;
        }
        else
        {
            pathAndQuery = location.OriginalString;
            if (!pathAndQuery.StartsWith('/') || pathAndQuery.StartsWith("//", StringComparison.Ordinal)) return null;
        }
        if (basePath.Length > 0)
        {
            if (!pathAndQuery.StartsWith(basePath, StringComparison.Ordinal)) return null;
            pathAndQuery = pathAndQuery[basePath.Length..];
        }
        return match.App.PathPrefix + (pathAndQuery.StartsWith('/') ? pathAndQuery : "/" + pathAndQuery);
    }
}
