using System.Globalization;
using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>
/// How the local proxies keep tunnels ready (<see cref="TunnelPool"/>): at most <paramref name="MaxSize"/> idle tunnels,
/// each handed out only while younger than <paramref name="MaxIdle"/>, and none once no dial came for
/// <paramref name="DemandWindow"/>. <c>GATEHOUSE_TUNNEL_POOL</c>: <c>on</c> turns the pool on, a number from 1 to 16 turns it
/// on with that <paramref name="MaxSize"/>; unset, <c>off</c> or <c>0</c>: off. Off by default: on loopback it saved no
/// set-up time (over a link 20 ms away it halves it, to about a direct connection's: docs/benchmarks.md, "the pool over
/// a delayed link"; turn it on there), each ready tunnel costs the balancer a new connection every few seconds while
/// connections keep coming, and an HTTP request (kube, apps) that takes a ready tunnel the balancer closes that instant
/// fails once instead of being retried (the TCP path retries).
/// </summary>
internal sealed record TunnelPoolSettings(int MaxSize, TimeSpan MaxIdle, TimeSpan DemandWindow)
{
    public const string Variable = "GATEHOUSE_TUNNEL_POOL";
    public const int DefaultMaxSize = 4, Largest = 16;

    /// <summary>Half the proxy's ClientHello deadline: a tunnel handed out at that age still has as long again for the
    /// inner handshake to start, and balancers' idle timeouts (60 s and up) are far off.</summary>
    public static TimeSpan DefaultMaxIdle => ProxyProtocol.TunnelHelloTimeout / 2;

    public static readonly TimeSpan DefaultDemandWindow = TimeSpan.FromSeconds(30);

    public static TunnelPoolSettings Default { get; } = new(DefaultMaxSize, DefaultMaxIdle, DefaultDemandWindow);

    /// <summary>The settings <c>GATEHOUSE_TUNNEL_POOL</c> asks for: null when the pool is off, else the settings or the
    /// sentence saying what is wrong with the value.</summary>
    public static (TunnelPoolSettings? Settings, string? Error) Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return (null, null);
        var value = text.Trim();
        if (value.Equals("off", StringComparison.OrdinalIgnoreCase) || value == "0") return (null, null);
        if (value.Equals("on", StringComparison.OrdinalIgnoreCase)) return (Default, null);
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is > 0 and <= Largest)
            return (Default with { MaxSize = size }, null);
        return (null, $"{Variable}: '{value}' is not off, on or a number of tunnels from 1 to {Largest}.");
    }

    public static (TunnelPoolSettings? Settings, string? Error) FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));
}
