using Gatehouse.Routing;

namespace Gatehouse.Proxy.Routing;

/// <summary>Where a connection goes after its ClientHello (ARCHITECTURE §3).</summary>
internal enum RouteKind
{
    /// <summary>A gatehouse-* protocol: <see cref="ServiceRouter"/> terminates TLS and hands off to its protocol handler.</summary>
    Service,

    /// <summary>HTTPS in Kestrel: the web API, apps, <c>/kube/NAME</c>, <c>kube-gatehouse.*</c>, the tunnel endpoint.</summary>
    Web,

    /// <summary>Not a whole ClientHello (not TLS, too large, malformed, too slow, closed): close and count it.</summary>
    Refused,
}

/// <summary>
/// One route decision: <see cref="Decide"/> is the only place that reads a ClientHello's ALPN and SNI to pick a way, for
/// connections on the TLS port and inside tunnels alike.
/// </summary>
/// <param name="Alpn">For <see cref="RouteKind.Service"/>: the protocol as offered (with <c>-ping</c> if it was).</param>
/// <param name="Service">For <see cref="RouteKind.Service"/>: the protocol without <c>-ping</c>, which picks the handler.</param>
/// <param name="Ping">For <see cref="RouteKind.Service"/>: the client asked for ping framing.</param>
/// <param name="Metric">The <c>route</c> tag of <c>gatehouse.connections</c> for a direct connection.</param>
/// <param name="FailureReason">For <see cref="RouteKind.Refused"/>: the <c>reason</c> tag of <c>gatehouse.handshake.failures</c>.</param>
/// <param name="Detail">For <see cref="RouteKind.Refused"/>: what was wrong, for the log.</param>
internal readonly record struct Route(RouteKind Kind, string Metric, string? Alpn = null, string? Service = null, bool Ping = false,
    string? FailureReason = null, string? Detail = null)
{
    public static Route Decide(in ClientHelloParse hello)
    {
        if (hello.Status != ClientHelloStatus.Complete)
            return new Route(RouteKind.Refused,
                hello.Status == ClientHelloStatus.NotTls ? GatehouseMetrics.Routes.NotTls : GatehouseMetrics.Routes.Unknown,
                FailureReason: GatehouseMetrics.ReasonFor(hello.Status), Detail: hello.Error ?? hello.Status.ToString());
        // The first gatehouse-* protocol in the client's order wins (the client's preference, RFC 7301 §3.2).
        foreach (var offered in hello.Alpn)
            if (AlpnProtocols.Parse(offered) is { } service)
                return new Route(RouteKind.Service, service.Service[AlpnProtocols.Prefix.Length..], offered, service.Service, service.Ping);
        return new Route(RouteKind.Web,
            hello.ServerName?.StartsWith(ProxyProtocol.KubeSniPrefix, StringComparison.OrdinalIgnoreCase) == true
                ? GatehouseMetrics.Routes.Kube : GatehouseMetrics.Routes.Web);
    }
}
