using System.Security.Cryptography.X509Certificates;
using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>What to dial: an ALPN service (<see cref="AlpnProtocols"/>), the target in the dial frame, and ping framing
/// (null: ping framing exactly when tunnelled, where idle-timeout balancers sit).</summary>
internal sealed record DialTarget(string Service, string Target, bool? Ping = null, string? Login = null, bool Probe = false,
    string? DbUser = null, string? DbName = null)
{
    public DialRequest Request => new(Target, Login, DbUser, DbName, Probe ? true : null);
}

/// <summary>How a connection reached the proxy.</summary>
internal enum DialRoute { Direct, WebSocket, RawUpgrade }

/// <summary>A dial's outcome: a stream carrying the service's bytes, or a sentence for the user (and the proxy's code
/// when it was the proxy that refused).</summary>
internal sealed record DialResult(Stream? Stream, DialRoute Route, string? Error, string? Code = null)
{
    public bool Ok => Stream is not null;

    /// <summary>The connection rode a tunnel the pool had ready (<see cref="TunnelPool"/>).</summary>
    public bool Pooled { get; init; }

    public static DialResult Connected(Stream stream, DialRoute route) => new(stream, route, null);
    public static DialResult Failed(DialRoute route, string error, string? code = null) => new(null, route, error, code);
}

/// <summary>The proxy's address split for sockets, URIs and SNI.</summary>
internal sealed record ProxyAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses HOST:PORT ([v6]:PORT); port 443 when none is given.</summary>
    public static ProxyAddress? TryParse(string text) =>
        Uri.TryCreate($"https://{text.Trim()}/", UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" && uri.Host.Length > 0
            ? new ProxyAddress(uri.IdnHost.Trim('[', ']'), uri.Port) : null;
}

/// <summary>Everything a dial needs besides the target.</summary>
/// <param name="ClientCertificate">The profile's certificate with its key, offered on every inner handshake (and on the outer
/// one when asked, unless <see cref="Outer"/> says otherwise).</param>
/// <param name="HostCa">The cluster's host CA: the only root the inner TLS trusts (and one the outer TLS may use).</param>
/// <param name="Insecure">Accept any certificate on the OUTER TLS (a lab balancer); the inner TLS still needs the host CA.</param>
/// <param name="ProfileDirectory">Where tunnel.json is cached; null: no cache.</param>
internal sealed record DialerOptions(
    ProxyAddress Proxy,
    X509Certificate2? ClientCertificate,
    X509Certificate2? HostCa,
    bool Insecure = false,
    string? ProfileDirectory = null,
    TimeSpan? PingInterval = null,
    TunnelSetting? Tunnel = null,
    TunnelKind? TunnelKind = null,
    TimeSpan? ConnectTimeout = null)
{
    /// <summary>The outer TLS's client certificate and what the fronts asked for (default: <paramref name="ClientCertificate"/>
    /// on request). Shared by copies made with <c>with</c>, so one command's connections report together.</summary>
    public OuterCertificate Outer { get; init; } = new(ClientCertificate, OuterCertificate.FromProfile);

    /// <summary>Where a warning about a connection goes (the command's stderr); null: nowhere.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>Keep tunnels ready (<see cref="TunnelPool"/>): set by the long-running local proxies when
    /// <c>GATEHOUSE_TUNNEL_POOL</c> asks for it; null (the default, and one-shot commands): every tunnel is opened when dialled.</summary>
    public TunnelPoolSettings? Pool { get; init; }

    public TimeSpan EffectivePingInterval => PingInterval ?? ProxyProtocol.DefaultPingInterval;
    public TimeSpan EffectiveConnectTimeout => ConnectTimeout ?? TimeSpan.FromSeconds(15);
}

