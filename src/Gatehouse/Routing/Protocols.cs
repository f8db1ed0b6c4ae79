namespace Gatehouse.Routing;

/// <summary>The ALPN protocols of the one TLS port (ARCHITECTURE §3). Each is also offered with <see cref="PingSuffix"/>.</summary>
internal static class AlpnProtocols
{
    public const string Ssh = "gatehouse-ssh", Postgres = "gatehouse-postgres", MySql = "gatehouse-mysql", Tcp = "gatehouse-tcp";

    /// <summary>Reverse tunnels from agents (later), and the client's probe: a handshake that negotiates it proves the
    /// client reached Gatehouse's own TLS with ALPN intact.</summary>
    public const string Tunnel = "gatehouse-tunnel";

    public const string PingSuffix = "-ping";
    public const string Prefix = "gatehouse-";

    public static readonly IReadOnlyList<string> Services = [Ssh, Postgres, MySql, Tcp, Tunnel];

    /// <summary>The service a protocol names, and whether it asks for ping framing; null for anything else.</summary>
    public static (string Service, bool Ping)? Parse(string alpn)
    {
        var ping = alpn.EndsWith(PingSuffix, StringComparison.Ordinal);
        var service = ping ? alpn[..^PingSuffix.Length] : alpn;
        return Services.Contains(service) ? (service, ping) : null;
    }
}

/// <summary>Names both halves of the proxy protocol agree on.</summary>
internal static class ProxyProtocol
{
    /// <summary>The name in every host certificate that the inner TLS (direct or tunnelled) verifies, so a balancer in
    /// front may show clients any public certificate and name.</summary>
    public const string InternalHostName = "gatehouse.internal";

    /// <summary>SNI prefix routed to the Kubernetes service.</summary>
    public const string KubeSniPrefix = "kube-gatehouse.";

    public const string TunnelPath = "/v1/tunnel";
    public const string WebSocketProtocol = "gatehouse-tls", WebSocketPingProtocol = "gatehouse-tls-ping";

    /// <summary>The raw HTTP/1.1 upgrade token, echoed in <see cref="UpgradeHeader"/> too because some balancers strip Upgrade.</summary>
    public const string RawUpgrade = "gatehouse-tls";
    public const string UpgradeHeader = "X-Gatehouse-Upgrade";

    public static readonly TimeSpan DefaultPingInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long the proxy waits for the inner ClientHello on an upgraded tunnel before closing it (an upgrade
    /// costs the proxy a connection and needs no identity). Clients that keep tunnels ready hand them out well before.</summary>
    public static readonly TimeSpan TunnelHelloTimeout = TimeSpan.FromSeconds(10);
}
