using System.Net;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// What an app's request and response look like on the far side of the proxy. One per request (it carries that request's
/// assertion and client address). YARP's base transform has copied the headers minus hop-by-hop ones; this removes what
/// the app must never see or could be fooled by, and adds who is asking.
/// </summary>
internal sealed class HttpAppTransformer(HttpAppMatch match, string assertion, IPAddress client, IReadOnlySet<string> certificateHeaderNames,
    Func<IPAddress, bool> isTrustedHop) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
        CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, match.RemainingPath, httpContext.Request.QueryString);
        // The app's own host name, as if it were called directly; the name the user typed goes in X-Forwarded-Host.
        proxyRequest.Headers.Host = null;

        var incomingForwardedFor = httpContext.Request.Headers["X-Forwarded-For"];
        foreach (var name in proxyRequest.Headers.Select(h => h.Key).ToList())
        {
            // Belt and braces: the header guard has already taken every certificate header out of the request. Impersonate-*
            // would let a caller speak for someone else to an app that honours it; an assertion may come only from us.
            if (certificateHeaderNames.Contains(name) || name.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase) || name.Equals("Forwarded", StringComparison.OrdinalIgnoreCase)
                || name.Equals(IdentityAssertion.HeaderName, StringComparison.OrdinalIgnoreCase))
                proxyRequest.Headers.Remove(name);
        }
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For", ForwardedFor(incomingForwardedFor));
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Host", httpContext.Request.Host.Value);
        if (match.ByPathPrefix) proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", match.App.PathPrefix);
        proxyRequest.Headers.TryAddWithoutValidation(IdentityAssertion.HeaderName, assertion);
    }

    /// <summary>
    /// The chain as received, minus the trusted hops (balancers) at its right end, then the client address the proxy
    /// resolved: the rightmost entry is always one Gatehouse vouches for; entries left of it are what the client claimed.
    /// </summary>
    private string ForwardedFor(Microsoft.Extensions.Primitives.StringValues incoming)
    {
        var entries = incoming.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        while (entries.Count > 0 && IPAddress.TryParse(entries[^1], out var hop) && (hop.Equals(client) || isTrustedHop(hop)))
            entries.RemoveAt(entries.Count - 1);
        entries.Add(client.ToString());
        return string.Join(", ", entries);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        var result = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
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
