using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// What an app's request and response look like on the far side of the proxy, beyond the rules every forwarded request
/// follows (<see cref="ForwardedRequestTransformer{TResource}"/>): the request carries who is asking as a signed
/// assertion, and a redirect to the app itself comes back under /apps/NAME/ when the app asked for it. One per request.
/// </summary>
internal sealed class HttpAppTransformer(ResourceMatch<HttpApp> match, Caller caller, string assertion, UpstreamHeaderRules rules)
    : ForwardedRequestTransformer<HttpApp>(match, caller, rules)
{
    protected override void AddResourceHeaders(HttpRequestMessage proxyRequest) =>
        proxyRequest.Headers.TryAddWithoutValidation(IdentityAssertion.HeaderName, assertion);

    protected override void TransformResourceResponse(HttpContext httpContext, HttpResponseMessage? proxyResponse)
    {
        if (Match.ByPathPrefix && Match.Target.RewriteRedirects && proxyResponse?.Headers.Location is { } location
            && RewriteLocation(location) is { } rewritten)
            httpContext.Response.Headers.Location = rewritten;
    }

    /// <summary>A redirect to the app itself (absolute at its URI, or path-absolute) moved back under /apps/NAME/; others
    /// (to an identity provider, say) untouched.</summary>
    private string? RewriteLocation(Uri location)
    {
        var appUri = Match.Target.Uri;
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
        return Match.Target.PathPrefix + (pathAndQuery.StartsWith('/') ? pathAndQuery : "/" + pathAndQuery);
    }
}
