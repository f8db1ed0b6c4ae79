using System.Net;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Proxy.Routing;

/// <summary>
/// Kestrel connection middleware on the plain-HTTP listener (proxy.http_listen, issue 7). Plain HTTP carries no proof
/// of who sent it, so only the balancers themselves may connect: a peer inside a trusted front's source_cidrs or
/// proxy.trusted_proxies goes on to HTTP; any other is closed before a byte of HTTP is parsed, counted, and logged at
/// Debug (it is ordinary scanning traffic, not a security event in itself).
/// </summary>
internal sealed class TrustedPeerGate(ProxyOptions options, GatehouseMetrics metrics, ILogger<TrustedPeerGate> logger)
{
    public Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var peer = connection.RemoteEndPoint is IPEndPoint endpoint ? ClientAddress.Normalize(endpoint.Address) : null;
        if (peer is not null && IsTrusted(peer))
        {
            metrics.Connection(GatehouseMetrics.Routes.Http);
            return next(connection);
        }
        metrics.HandshakeFailure(GatehouseMetrics.Reasons.UntrustedPeer);
        ProxyLog.UntrustedPeerClosed(logger, connection.ConnectionId, connection.RemoteEndPoint?.ToString() ?? "?");
        connection.Abort(new ConnectionAbortedException("not a trusted front or proxy"));
        return Task.CompletedTask;
    }

    public bool IsTrusted(IPAddress peer) =>
        options.TrustedFronts.Any(f => f.Contains(peer)) || options.TrustedProxies.Any(n => n.Contains(peer));
}
