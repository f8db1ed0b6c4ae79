using System.Net;

namespace Gatehouse.Proxy;

/// <param name="Listen">The one TLS port (proxy.listen).</param>
/// <param name="PublicAddresses">Names and addresses clients use to reach the proxy (proxy.public_addr); they go into
/// the host certificate.</param>
internal sealed record ProxyOptions(IPEndPoint Listen, IReadOnlyList<string> PublicAddresses)
{
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Loopback, 3080);
    public static readonly IReadOnlyList<string> DefaultPublicAddresses = ["localhost", "127.0.0.1"];

    /// <summary>The optional plain-HTTP port for balancers that speak HTTP to their targets (proxy.http_listen); only
    /// <see cref="TrustedFronts"/>' networks and <see cref="TrustedProxies"/> may connect to it.</summary>
    public IPEndPoint? HttpListen { get; init; }

    /// <summary>How often the proxy re-reads revocations and trust files.</summary>
    public TimeSpan TrustRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Balancers whose client-certificate headers are honoured (proxy.trusted_fronts).</summary>
    public IReadOnlyList<Gatehouse.ForwardedCerts.TrustedFront> TrustedFronts { get; init; } = [];

    /// <summary>Hops whose X-Forwarded-For is believed (proxy.trusted_proxies); the fronts' networks count too.</summary>
    public IReadOnlyList<IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>OpenSSH servers reached through gatehouse-ssh (resources.ssh_nodes).</summary>
    public IReadOnlyList<Resources.SshNode> SshNodes { get; init; } = [];

    /// <summary>TCP apps reached through gatehouse-tcp (resources.tcp_apps).</summary>
    public IReadOnlyList<Resources.TcpApp> TcpApps { get; init; } = [];

    /// <summary>HTTP apps reached by host name or /apps/NAME/ (resources.http_apps).</summary>
    public IReadOnlyList<Resources.HttpApp> HttpApps { get; init; } = [];

    /// <summary>Kubernetes API servers reached at /kube/NAME/ or host kube-gatehouse.* (resources.kube_clusters).</summary>
    public IReadOnlyList<Resources.KubeCluster> KubeClusters { get; init; } = [];

    /// <summary>Databases reached through gatehouse-postgres (resources.databases).</summary>
    public IReadOnlyList<Resources.Database> Databases { get; init; } = [];

    /// <summary>How much of a statement's text a <c>db.query</c> event keeps (audit.db_query_max_length), in UTF-8 bytes.</summary>
    public int DbQueryAuditMaxLength { get; init; } = 4096;

    /// <summary>The cluster host <c>kube-gatehouse.*</c> reaches (proxy.kube_default); null: the only one, if exactly one.</summary>
    public string? KubeDefault { get; init; }

    /// <summary>How often -ping connections and gatehouse-tls-ping tunnels are pinged (proxy.ping_interval).</summary>
    public TimeSpan PingInterval { get; init; } = Gatehouse.Routing.ProxyProtocol.DefaultPingInterval;

    /// <summary>Whether X-Forwarded-For from this hop is believed: a trusted proxy or a trusted front's network.</summary>
    public bool IsTrustedHop(IPAddress address) =>
        TrustedProxies.Any(n => n.Contains(address)) || TrustedFronts.Any(f => f.Contains(address));
}
