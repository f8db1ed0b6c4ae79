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
/// <param name="Native">For <see cref="RouteKind.Service"/>: the client speaks the protocol itself, with no dial frame
/// (plain psql); <see cref="Target"/> is what its TLS server name names.</param>
/// <param name="Target">For a native route: the resource named by the server name (NAME in NAME.db.&lt;public name&gt;),
/// or empty when it names none.</param>
internal readonly record struct Route(RouteKind Kind, string Metric, string? Alpn = null, string? Service = null, bool Ping = false,
    string? FailureReason = null, string? Detail = null, bool Native = false, string? Target = null)
{
    /// <summary>The ALPN protocol PostgreSQL 17 clients offer (also when they start TLS directly, without SSLRequest).</summary>
    public const string PostgresAlpn = "postgresql";

    /// <param name="postgresRequested">The client asked for TLS with a PostgreSQL SSLRequest before this ClientHello.</param>
    public static Route Decide(in ClientHelloParse hello, bool postgresRequested = false)
    {
        if (hello.Status != ClientHelloStatus.Complete)
            return new Route(RouteKind.Refused,
                hello.Status == ClientHelloStatus.NotTls ? GatehouseMetrics.Routes.NotTls : GatehouseMetrics.Routes.Unknown,
                FailureReason: GatehouseMetrics.ReasonFor(hello.Status), Detail: hello.Error ?? hello.Status.ToString());
        if (postgresRequested || hello.Alpn.Contains(PostgresAlpn))
            return new Route(RouteKind.Service, GatehouseMetrics.Routes.Postgres, hello.Alpn.Contains(PostgresAlpn) ? PostgresAlpn : null,
                AlpnProtocols.Postgres, Native: true, Target: DatabaseNamed(hello.ServerName));
        // The first gatehouse-* protocol in the client's order wins (the client's preference, RFC 7301 §3.2).
        foreach (var offered in hello.Alpn)
            if (AlpnProtocols.Parse(offered) is { } service)
                return new Route(RouteKind.Service, service.Service[AlpnProtocols.Prefix.Length..], offered, service.Service, service.Ping);
        return new Route(RouteKind.Web,
            hello.ServerName?.StartsWith(ProxyProtocol.KubeSniPrefix, StringComparison.OrdinalIgnoreCase) == true
                ? GatehouseMetrics.Routes.Kube : GatehouseMetrics.Routes.Web);
    }

    /// <summary>NAME from a server name NAME.db.&lt;anything&gt;; empty for any other name (or none).</summary>
    private static string DatabaseNamed(string? serverName)
    {
        var labels = serverName?.Split('.');
        return labels is { Length: >= 3 } && labels[1].Equals("db", StringComparison.OrdinalIgnoreCase) ? labels[0] : "";
    }
}
