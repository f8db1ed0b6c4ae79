using System.Net;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Kube;

/// <summary>
/// A request to the Kubernetes API as the proxy makes it: the shared header rules (no client-certificate or
/// Impersonate-* header of the client's survives), the proxy's own bearer token instead of any Authorization the client
/// sent, and Impersonate-User / Impersonate-Group for whom the roles say (RBAC then judges them, not the proxy).
/// </summary>
internal sealed class KubeTransformer(KubeMatch match, string impersonateUser, IReadOnlyList<string> impersonateGroups, IPAddress client,
    IReadOnlySet<string> certificateHeaderNames, ProxyCookieFilter cookies) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
        CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, match.RemainingPath, httpContext.Request.QueryString);
        proxyRequest.Headers.Host = null;

        ForwardedRequestHeaders.RemoveUntrusted(proxyRequest, certificateHeaderNames);
        // The client's credentials are for Gatehouse, never for the API server: only the proxy's own go on.
        proxyRequest.Headers.Authorization = null;
        if (match.Cluster.BearerToken is { } token)
            proxyRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        ForwardedRequestHeaders.AddForwarded(proxyRequest, httpContext.Features.Get<RequestIdentityFeature>()?.ClaimedForwardedFor ?? [], client,
            httpContext.Request.Host.Value ?? "", match.ByPathPrefix ? match.Cluster.PathPrefix : null);

        proxyRequest.Headers.TryAddWithoutValidation("Impersonate-User", impersonateUser);
        // One value, written as one line per group by ImpersonateGroupEncoding (HttpClient would fold them into one "a, b" line).
        var groups = impersonateGroups.Where(ImpersonateGroupEncoding.IsSendable).ToList();
        if (groups.Count > 0)
            proxyRequest.Headers.TryAddWithoutValidation(ImpersonateGroupEncoding.GroupHeader, string.Join(ImpersonateGroupEncoding.LineBreak, groups));
    }

    /// <summary>No Set-Cookie for the proxy's own cookies: /kube/NAME/ shares the proxy's origin, and the API server relays
    /// what aggregated APIs and service/pod proxy subresources answer (<see cref="ProxyCookieFilter"/>).</summary>
    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        var result = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        cookies.RemoveProxyCookies(httpContext.Response, match.Cluster.Resource);
        return result;
    }
}
