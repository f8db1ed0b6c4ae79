using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>
/// What every forwarded request and answer look like on the far side, whatever the resource: YARP's base transform has
/// copied the headers minus hop-by-hop ones; this puts the path under the resource's upstream (the path prefix gone),
/// lets the resource's own host name stand (the name the user typed goes in X-Forwarded-Host), removes what the far side
/// must never see (<see cref="ForwardedRequestHeaders.RemoveUntrusted"/>), adds the X-Forwarded-* the proxy vouches
/// for, and drops any Set-Cookie for the proxy's own cookies from the answer (<see cref="ProxyCookieFilter"/>). A kind
/// adds its own headers in <see cref="AddResourceHeaders"/> and its answer rules in <see cref="TransformResourceResponse"/>.
/// </summary>
internal abstract class ForwardedRequestTransformer<TResource>(ResourceMatch<TResource> match, Caller caller, UpstreamHeaderRules rules)
    : HttpTransformer where TResource : IForwardedResource
{
    protected ResourceMatch<TResource> Match => match;

    public sealed override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
        CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, match.RemainingPath, httpContext.Request.QueryString);
        proxyRequest.Headers.Host = null;

        ForwardedRequestHeaders.RemoveUntrusted(proxyRequest, rules.CertificateHeaderNames);
        ForwardedRequestHeaders.AddForwarded(proxyRequest, httpContext.Features.Get<RequestIdentityFeature>()?.ClaimedForwardedFor ?? [], caller.Client,
            httpContext.Request.Host.Value ?? "", match.ByPathPrefix ? match.Target.PathPrefix : null);
        AddResourceHeaders(proxyRequest);
    }

    public sealed override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        var result = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        rules.Cookies.RemoveProxyCookies(httpContext.Response, match.Target.Resource);
        TransformResourceResponse(httpContext, proxyResponse);
        return result;
    }

    /// <summary>The kind's own request headers (credentials, identity), added after the shared rules.</summary>
    protected abstract void AddResourceHeaders(HttpRequestMessage proxyRequest);

    /// <summary>The kind's own answer rules, after the shared ones; none by default.</summary>
    protected virtual void TransformResourceResponse(HttpContext httpContext, HttpResponseMessage? proxyResponse)
    {
    }
}

/// <summary>The header rules every forwarded request shares, from the proxy's configuration: which client-certificate
/// headers exist (to remove them again) and the filter for the proxy's own cookies (a singleton: it remembers which
/// resources it has reported).</summary>
internal sealed record UpstreamHeaderRules(IReadOnlySet<string> CertificateHeaderNames, ProxyCookieFilter Cookies);
