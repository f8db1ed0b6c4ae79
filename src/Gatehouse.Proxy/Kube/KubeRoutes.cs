using Gatehouse.Proxy.Resources;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Kube;

/// <summary>How a request reached a cluster: by the <c>kube-gatehouse.</c> host (the whole path is the API's) or under
/// /kube/NAME/ (the prefix is removed).</summary>
internal sealed record KubeMatch(KubeCluster Cluster, bool ByPathPrefix, PathString RemainingPath);

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

    /// <summary>The cluster for this request; null when it is not a Kubernetes request at all (<paramref name="notFound"/>
    /// null) or names no cluster (<paramref name="notFound"/> says so, for a 404 Status).</summary>
    /// <param name="serverName">The TLS server name (SNI) the connection asked for: <c>kube-gatehouse.*</c> there routes
    /// like the Host, so kubectl can use <c>tls-server-name</c> with an address that has no such DNS name.</param>
    public KubeMatch? Match(HttpRequest request, string? serverName, out string? notFound)
    {
        notFound = null;
        if (request.Host.Host.StartsWith(ProxyProtocol.KubeSniPrefix, StringComparison.OrdinalIgnoreCase)
            || serverName?.StartsWith(ProxyProtocol.KubeSniPrefix, StringComparison.OrdinalIgnoreCase) == true)
        {
            if (_default is not null) return new KubeMatch(_default, false, request.Path);
            notFound = _byName.Count == 0
                ? "this proxy serves no Kubernetes clusters (resources.kube_clusters is empty)"
                : $"{ProxyProtocol.KubeSniPrefix}* reaches proxy.kube_default, and none is set; use https://<proxy>/kube/NAME for one of: {Names}";
            return null;
        }
        if (!request.Path.StartsWithSegments("/kube", StringComparison.Ordinal, out var rest) || !rest.HasValue) return null;
        var value = rest.Value!;
        var end = value.IndexOf('/', 1);
        var name = end < 0 ? value[1..] : value[1..end];
        if (!_byName.TryGetValue(name, out var cluster))
        {
            notFound = $"there is no Kubernetes cluster named '{name}' (this proxy serves: {Names})";
            return null;
        }
        return new KubeMatch(cluster, true, end < 0 ? new PathString("/") : new PathString(value[end..]));
    }
}
