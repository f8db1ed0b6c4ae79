using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Resources;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Kube;

/// <summary>
/// Finds the Kubernetes cluster a request is for. Two ways in: host <c>kube-gatehouse.&lt;anything&gt;</c> (SNI or Host;
/// the cluster is proxy.kube_default, or the only one configured), and the path prefix <c>/kube/NAME/</c> — what plain
/// kubectl uses through an mTLS balancer with one name (<c>server: https://balancer/kube/NAME</c>).
/// </summary>
internal sealed class KubeRoutes
{
    private readonly Dictionary<string, KubeCluster> _byName = new(StringComparer.Ordinal);
    private readonly KubeCluster? _default;

    public KubeRoutes(IReadOnlyList<KubeCluster> clusters, string? defaultName)
    {
        foreach (var cluster in clusters) _byName[cluster.Name] = cluster;
        _default = defaultName is not null ? _byName.GetValueOrDefault(defaultName) : clusters.Count == 1 ? clusters[0] : null;
    }

    public IReadOnlyCollection<KubeCluster> Clusters => _byName.Values;

    private string Names => _byName.Count == 0 ? "none" : string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal));

    /// <summary>The cluster for this request — by the <c>kube-gatehouse.</c> host the whole path is the API's; under
    /// /kube/NAME/ the prefix is removed, and /kube/NAME is the API's root "/". Null when it is not a Kubernetes request
    /// at all (<paramref name="notFound"/> null) or names no cluster (<paramref name="notFound"/> says so, for a 404
    /// Status).</summary>
    /// <param name="serverName">The TLS server name (SNI) the connection asked for: <c>kube-gatehouse.*</c> there routes
    /// like the Host, so kubectl can use <c>tls-server-name</c> with an address that has no such DNS name.</param>
    public ResourceMatch<KubeCluster>? Match(HttpRequest request, string? serverName, out string? notFound)
    {
        notFound = null;
        if (request.Host.Host.StartsWith(ProxyProtocol.KubeSniPrefix, StringComparison.OrdinalIgnoreCase)
            || serverName?.StartsWith(ProxyProtocol.KubeSniPrefix, StringComparison.OrdinalIgnoreCase) == true)
        {
            if (_default is not null) return new ResourceMatch<KubeCluster>(_default, false, request.Path);
            notFound = _byName.Count == 0
                ? "this proxy serves no Kubernetes clusters (resources.kube_clusters is empty)"
                : $"{ProxyProtocol.KubeSniPrefix}* reaches proxy.kube_default, and none is set; use https://<proxy>/kube/NAME for one of: {Names}";
            return null;
        }
        if (!ResourcePaths.TryName(request.Path, "/kube", out var name, out var remaining)) return null;
        if (!_byName.TryGetValue(name, out var cluster))
        {
            notFound = $"there is no Kubernetes cluster named '{name}' (this proxy serves: {Names})";
            return null;
        }
        return new ResourceMatch<KubeCluster>(cluster, true, remaining.HasValue ? remaining : new PathString("/"));
    }
}
