using Gatehouse.Proxy.Tunnel;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Routing;

/// <summary>
/// Kestrel connection middleware in front of HTTPS on the one TLS port (ARCHITECTURE §3). It peeks at the TLS
/// ClientHello without consuming it — bounded in size and time, examining what it read so a slow sender costs no
/// spinning — and routes: a gatehouse-* ALPN (first in the client's order) to the service router; everything else
/// (h2, http/1.1, no ALPN, the Kubernetes SNI for now) on to Kestrel's HTTPS and the web side; not TLS at all is closed.
/// </summary>
internal sealed class ConnectionRouter(ServiceRouter services, GatehouseMetrics metrics, ILogger<ConnectionRouter> logger)
{
    public const int MaxClientHello = 16 * 1024;
    private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(10);

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        // 1. Peek: read until the ClientHello is whole (or clearly is not one), consuming nothing.
        var input = connection.Transport.Input;
        ClientHelloParse hello;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
        {
            timeout.CancelAfter(PeekTimeout);
            while (true)
            {
                ReadResult read;
                try
                {
                    read = await input.ReadAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Refuse(connection, GatehouseMetrics.Routes.Unknown, GatehouseMetrics.Reasons.Timeout, "no complete ClientHello within the peek timeout");
                    return;
                }
                var buffer = read.Buffer;
                hello = ClientHelloParser.TryParse(buffer, MaxClientHello);
                if (hello.Status == ClientHelloStatus.NeedMoreData && !read.IsCompleted)
                {
                    input.AdvanceTo(buffer.Start, buffer.End); // examined all: the next read waits for new bytes
                    continue;
                }
                input.AdvanceTo(buffer.Start); // nothing consumed, nothing examined: whoever reads next sees it all
                break;
            }
        }

        // 2. Route.
        if (hello.Status != ClientHelloStatus.Complete)
        {
            Refuse(connection, hello.Status == ClientHelloStatus.NotTls ? GatehouseMetrics.Routes.NotTls : GatehouseMetrics.Routes.Unknown,
                GatehouseMetrics.ReasonFor(hello.Status), hello.Error ?? hello.Status.ToString());
            return;
        }
        string? service = null;
        foreach (var protocol in hello.Alpn)
            if (AlpnProtocols.Parse(protocol) is not null) { service = protocol; break; }
        if (service is null)
        {
            metrics.Connection(hello.ServerName?.StartsWith(ProxyProtocol.KubeSniPrefix, StringComparison.OrdinalIgnoreCase) == true
                ? GatehouseMetrics.Routes.Kube : GatehouseMetrics.Routes.Web);
            await next(connection);
            return;
        }
        metrics.Connection(AlpnProtocols.Parse(service)!.Value.Service[AlpnProtocols.Prefix.Length..]);
        var client = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        await using var stream = new DuplexPipeStream(connection.Transport);
        await services.ServeAsync(stream, service, new ConnectionFacts(ClientAddress.Normalize(client), "direct", connection.ConnectionId),
            connection.ConnectionClosed);
    }

    private void Refuse(ConnectionContext connection, string route, string reason, string detail)
    {
        metrics.Connection(route);
        metrics.HandshakeFailure(reason);
        ProxyLog.ConnectionClosedBeforeTls(logger, connection.ConnectionId, connection.RemoteEndPoint?.ToString() ?? "?", detail);
        connection.Abort(new ConnectionAbortedException(detail));
    }
}
