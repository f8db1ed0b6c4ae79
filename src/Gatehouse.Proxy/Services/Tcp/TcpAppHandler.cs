using System.Net.Sockets;
using Gatehouse.Access;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Gatehouse.Routing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Services.Tcp;

/// <summary>
/// <c>gatehouse-tcp</c>: TCP apps (resources.tcp_apps). The roles' app_labels decide; then the proxy connects to the app
/// and relays bytes until either side ends or the certificate the connection was allowed for expires.
/// </summary>
internal sealed class TcpAppHandler(ProxyOptions options, RoleCatalog roles, TimeProvider time, GatehouseMetrics metrics,
    ILogger<TcpAppHandler> logger) : IProtocolHandler
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private readonly Dictionary<string, TcpApp> _tcpApps = options.TcpApps.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public string Protocol => AlpnProtocols.Tcp;

    public async Task ServeAsync(ServiceConnection connection, CancellationToken cancellationToken)
    {
        var request = connection.Request;
        var resource = $"tcp-app:{request.Target}";

        // 1. Which app.
        if (!_tcpApps.TryGetValue(request.Target, out var app))
        {
            if (options.HttpApps.Any(a => a.Name == request.Target))
            {
                await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.HttpApp,
                    $"'{request.Target}' is an HTTP app: it is served at /apps/{request.Target}/ (`gatehouse proxy app` serves it over HTTP)"), cancellationToken);
                return;
            }
            await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.NotFound,
                $"there is no TCP app named '{request.Target}' (this proxy serves: {(_tcpApps.Count == 0 ? "none" : string.Join(", ", _tcpApps.Keys.Order()))})"), cancellationToken);
            return;
        }

        // 2. May they. An allowed probe connects nothing, so it is no access to record; a denied one is a refusal like any other.
        var decision = (await roles.CheckerForAsync(connection.Caller.Identity, cancellationToken)).CheckApp(app.Name, app.Labels);
        if (!(decision.Allowed && request.Probe == true))
            await connection.AuditDecisionAsync(resource, AuditWords.Outcome(decision.Allowed), decision.Reason, cancellationToken);
        if (!decision.Allowed)
        {
            await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.Denied, decision.Reason), cancellationToken);
            return;
        }
        if (request.Probe == true)
        {
            await connection.AnswerAsync(DialAnswer.Accepted, cancellationToken);
            return;
        }

        // 3. Connect, answer, relay.
        var upstream = new TcpClient { NoDelay = true };
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(ConnectTimeout);
            await upstream.ConnectAsync(app.Host, app.Port, connectTimeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            upstream.Dispose();
            await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.Unreachable,
                $"app '{app.Name}' at {app.Address} does not answer ({(e is OperationCanceledException ? "timed out" : e.Message)}); tell its owner"), cancellationToken);
            return;
        }
        await connection.AnswerAsync(DialAnswer.Accepted, cancellationToken);
        await using var appStream = upstream.GetStream();
        Stream client = connection.Ping ? new PingFramedStream(connection.Tls, options.PingInterval, time) : connection.Tls;
        try
        {
            // No session outlives the certificate it was allowed for.
            using var expiry = new CredentialExpiry(connection.Caller, time);
            using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
            var result = await DuplexPump.RunAsync(client, appStream, session.Token);
            metrics.Bytes(ByteDirection.In, result.LeftToRight);
            metrics.Bytes(ByteDirection.Out, result.RightToLeft);
            var how = expiry.HasExpired ? expiry.Describe() : result.Failure?.Message ?? "closed";
            ProxyLog.SessionEnded(logger, connection.Facts.ConnectionId, connection.Caller.User, resource, result.LeftToRight, result.RightToLeft, how);
        }
        finally
        {
            if (connection.Ping) await client.DisposeAsync();
            upstream.Dispose();
        }
    }
}
