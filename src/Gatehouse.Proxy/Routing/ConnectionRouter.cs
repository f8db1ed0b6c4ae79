using Gatehouse.Proxy.Authentication;
using System.Net;
using Gatehouse.Routing;
using Gatehouse.Proxy.Services.Postgres;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Proxy.Routing;

/// <summary>
/// Kestrel connection middleware in front of HTTPS on the one TLS port (ARCHITECTURE §3). It peeks at the TLS
/// ClientHello without consuming it — bounded in size and time, examining what it read so a slow sender costs no
/// spinning — and routes: a gatehouse-* ALPN (first in the client's order), or PostgreSQL's SSLRequest or ALPN, to the
/// service router; everything else
/// (h2, http/1.1, no ALPN, the Kubernetes SNI for now) on to Kestrel's HTTPS and the web side; not TLS at all is closed.
/// </summary>
internal sealed class ConnectionRouter(ServiceRouter services, PostgresCancels postgresCancels, GatehouseMetrics metrics, TimeProvider time,
    ILogger<ConnectionRouter> logger)
{
    public const int MaxClientHello = 16 * 1024;
    private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(10);

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        // 1. Peek: read until the ClientHello is whole (or clearly is not one), consuming nothing.
        var input = connection.Transport.Input;
        ClientHelloParse hello;
        var postgres = false;
        try
        {
            hello = await ClientHelloReader.PeekAsync(input, MaxClientHello, PeekTimeout, time, connection.ConnectionClosed);

            // 2. Not TLS: a PostgreSQL client asks for TLS first (or cancels a query in the clear), answered here; then its
            //    ClientHello follows. Only such connections pay for this look: a TLS one is judged by its first byte above.
            if (hello.Status == ClientHelloStatus.NotTls)
            {
                switch (await PostgresPreamble.ReadAsync(connection.Transport, postgresCancels, PeekTimeout, time, connection.ConnectionClosed))
                {
                    case PreambleOutcome.Done:
                        metrics.Connection(GatehouseMetrics.Routes.Postgres);
                        return;
                    case PreambleOutcome.TlsAccepted:
                        postgres = true;
                        hello = await ClientHelloReader.PeekAsync(input, MaxClientHello, PeekTimeout, time, connection.ConnectionClosed);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (connection.ConnectionClosed.IsCancellationRequested)
        {
            // The client left while it was looked at (a balancer's TCP health check, a scan, a client that gave up): Kestrel
            // saw the close before the read did. Ordinary traffic, refused like a close the read saw, not an error.
            hello = ClientHelloParse.Failed(ClientHelloStatus.Closed, "the peer closed the connection before a whole ClientHello");
        }

        // 3. Route.
        var route = Route.Decide(hello, postgresRequested: postgres);
        switch (route.Kind)
        {
            case RouteKind.Refused:
                Refuse(connection, route.Metric, route.FailureReason!, route.Detail!);
                return;
            case RouteKind.Web:
                metrics.Connection(route.Metric);
                await next(connection);
                return;
        }
        metrics.Connection(route.Metric);
        var client = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        await using var stream = new DuplexPipeStream(connection.Transport);
        await services.ServeAsync(stream, route, new ConnectionFacts(ClientAddress.Normalize(client), "direct", connection.ConnectionId),
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
