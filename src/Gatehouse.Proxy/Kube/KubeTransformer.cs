using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Proxy.Kube;

/// <summary>
/// A request to the Kubernetes API as the proxy makes it, beyond the rules every forwarded request follows
/// (<see cref="ForwardedRequestTransformer{TResource}"/>: no client-certificate or Impersonate-* header of the client's
/// survives): the proxy's own bearer token instead of any Authorization the client sent, and Impersonate-User /
/// Impersonate-Group for whom the roles say (RBAC then judges them, not the proxy).
/// </summary>
internal sealed class KubeTransformer(ResourceMatch<KubeCluster> match, Caller caller, string impersonateUser, IReadOnlyList<string> impersonateGroups,
    UpstreamHeaderRules rules) : ForwardedRequestTransformer<KubeCluster>(match, caller, rules)
{
    protected override void AddResourceHeaders(HttpRequestMessage proxyRequest)
    {
        // The client's credentials are for Gatehouse, never for the API server: only the proxy's own go on.
        proxyRequest.Headers.Authorization = null;
        if (Match.Target.BearerToken is { } token)
            proxyRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        proxyRequest.Headers.TryAddWithoutValidation("Impersonate-User", impersonateUser);
        // One value, written as one line per group by ImpersonateGroupEncoding (HttpClient would fold them into one "a, b" line).
        var groups = impersonateGroups.Where(ImpersonateGroupEncoding.IsSendable).ToList();
        if (groups.Count > 0)
            proxyRequest.Headers.TryAddWithoutValidation(ImpersonateGroupEncoding.GroupHeader, string.Join(ImpersonateGroupEncoding.LineBreak, groups));
    }
}
