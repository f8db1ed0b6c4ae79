using System.Net.WebSockets;
using Gatehouse.Audit;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Routing;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Proxy.Tunnel;

/// <summary>
/// GET /v1/tunnel (ARCHITECTURE §4): through a layer-7 balancer, the client upgrades an HTTP request — to a WebSocket
/// (sub-protocol gatehouse-tls or gatehouse-tls-ping) or with the raw token gatehouse-tls — and the upgraded stream
/// carries the same TLS routing handshake as the TLS port. The upgrade itself is not authenticated: the inner mutual
/// TLS is — but when a trusted front forwarded a client certificate with the upgrade, the inner one must be the same
/// user (outer/inner binding, per front: bind_tunnel_identity). Inner connections for gatehouse-* services go to the
/// service router; the others (HTTP apps, Kubernetes) to HTTPS through <see cref="InnerConnections"/>.
/// </summary>
internal static class TunnelEndpoint
{
    public static void Map(WebApplication app, ServiceRouter router, InnerConnections inner, ProxyOptions options, AccessAudit audit, TimeProvider time,
        GatehouseMetrics metrics, ILogger logger)
    {
        // Opening a tunnel needs no identity, so a refused nested upgrade is audited once a minute per client, not per request.
        var nestedAudit = new AuditThrottle(TimeSpan.FromMinutes(1));
        app.MapGet(ProxyProtocol.TunnelPath, async (HttpContext context) =>
        {
            // 1. Browsers send Origin; a page must not be able to open tunnels with the user's network position.
            if (context.Request.Headers.ContainsKey("Origin"))
                return Results.Json(new { error = "tunnels are not opened from browsers (the request has an Origin header)" }, statusCode: 403);
            var feature = context.Features.Get<RequestIdentityFeature>();
            var clientAddress = feature?.Client ?? context.Connection.RemoteIpAddress!;

            // 1b. Never a tunnel inside a tunnel: the client tunnels once, and each level would be a place for the identity a
            //     front vouched for on the outer upgrade to get lost (docs/alb-mtls.md, "Outer/inner binding").
            if (context.Features.Get<TunnelledConnection>() is { } around)
            {
                ProxyLog.NestedTunnelRefused(logger, context.Connection.Id, around.Client.ToString(), around.Arrival);
                if (nestedAudit.ShouldRecord(around.Client.ToString(), time.GetUtcNow()))
                    await audit.NestedTunnelRefusedAsync(around.Outer?.Verdict.Identity?.User, around.Client, TunnelBinding.NestedRefusal,
                        new Dictionary<string, string> { ["arrival"] = around.Arrival, ["front"] = around.Outer?.Front ?? "" }, context.RequestAborted);
                return Results.Json(new { error = TunnelBinding.NestedRefusal, reason = "NestedTunnel" }, statusCode: 403);
            }

            // 2. Outer/inner binding (ARCHITECTURE §4): a front that forwarded a certificate has vouched for someone; the
            //    inner certificate must be that someone. Judged (and audited) here, checked after the inner handshake.
            OuterIdentity? outer = null;
            if (feature?.Front is { BindTunnelIdentity: true } front)
            {
                var (_, verdict) = await ClientCertificateAuthenticationHandler.AuthenticateAsync(context);
                if (verdict.Status != ForwardedStatus.NoCertificate) outer = new OuterIdentity(front.Name, verdict);
            }

            // 3. Upgrade: a WebSocket, or the raw token.
            Stream tunnel;
            TunnelKind kind;
            if (context.WebSockets.IsWebSocketRequest)
            {
                var offered = context.WebSockets.WebSocketRequestedProtocols;
                var protocol = offered.Contains(ProxyProtocol.WebSocketPingProtocol) ? ProxyProtocol.WebSocketPingProtocol
                    : offered.Contains(ProxyProtocol.WebSocketProtocol) ? ProxyProtocol.WebSocketProtocol : null;
                if (protocol is null)
                    return Results.Json(new { error = $"offer the WebSocket sub-protocol {ProxyProtocol.WebSocketProtocol} or {ProxyProtocol.WebSocketPingProtocol}" }, statusCode: 400);
                var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
                {
                    SubProtocol = protocol,
                    KeepAliveInterval = protocol == ProxyProtocol.WebSocketPingProtocol ? options.PingInterval : TimeSpan.Zero,
                });
                // Disposing closes the WebSocket gracefully (a close frame, then the peer's): disposing it outright aborts the
                // connection, and the balancer may never see the last bytes written — a WebSocket app's close frame, say.
                var connectionId = context.Connection.Id;
                tunnel = new IdleCutWatch(WebSocketStream.Create(socket, WebSocketMessageType.Binary, TimeSpan.FromSeconds(5)), socket,
                    options.PingInterval, time,
                    idle => ProxyLog.TunnelCutWhileIdle(logger, connectionId, clientAddress.ToString(), idle.TotalSeconds, options.PingInterval.TotalSeconds));
                kind = TunnelKind.WebSocket;
            }
            else if (string.Equals(context.Request.Headers.Upgrade, ProxyProtocol.RawUpgrade, StringComparison.OrdinalIgnoreCase)
                     && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
            {
                context.Response.Headers[ProxyProtocol.UpgradeHeader] = ProxyProtocol.RawUpgrade;
                context.Response.Headers.Upgrade = ProxyProtocol.RawUpgrade;
                tunnel = await upgrade.UpgradeAsync();
                kind = TunnelKind.Raw;
            }
            else
            {
                return Results.Json(new { error = $"upgrade this request: a WebSocket with sub-protocol {ProxyProtocol.WebSocketPingProtocol}, or Upgrade: {ProxyProtocol.RawUpgrade}" },
                    statusCode: 426);
            }

            // 4. The upgraded stream enters the same router as a new inner connection.
            metrics.TunnelOpened(kind);
            try
            {
                await using (tunnel)
                {
                    var (hello, buffered, length) = await ClientHelloReader.ReadAsync(tunnel, ConnectionRouter.MaxClientHello, ProxyProtocol.TunnelHelloTimeout,
                        time, context.RequestAborted);
                    var route = Route.Decide(hello);
                    if (route.Kind == RouteKind.Refused)
                    {
                        metrics.HandshakeFailure(route.FailureReason!);
                        if (buffered.Length > 0) System.Buffers.ArrayPool<byte>.Shared.Return(buffered);
                        return Results.Empty;
                    }
                    metrics.Connection(GatehouseMetrics.Routes.Tunnel);
                    var client = ClientAddress.Normalize(clientAddress);
                    var arrival = kind == TunnelKind.WebSocket ? "websocket" : "raw";
                    var stream = new PrefixedStream(tunnel, buffered, length);
                    if (route.Kind == RouteKind.Web)
                        // The web side (an app's host, kube-gatehouse.*, /kube/NAME): HTTPS as on the TLS port, in Kestrel.
                        await inner.ServeAsync(stream, new TunnelledConnection(client, arrival, outer), context.TraceIdentifier, context.RequestAborted);
                    else
                        await router.ServeAsync(stream, route, new ConnectionFacts(client, arrival, context.Connection.Id, outer), context.RequestAborted);
                }
            }
            finally
            {
                metrics.TunnelClosed(kind);
            }
            return Results.Empty;
        });
    }
}
