using Gatehouse.Access;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services.Tcp;

/// <summary>
/// <c>gatehouse-tcp</c>: TCP apps (resources.tcp_apps). The roles' app_labels decide; then the proxy connects to the app
/// and relays bytes until either side ends or the certificate the connection was allowed for expires.
/// </summary>
internal sealed class TcpAppHandler(ProxyOptions options, RoleCatalog roles, TimeProvider time, GatehouseMetrics metrics,
    ILogger<TcpAppHandler> logger) : IProtocolHandler
{
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
        if (!await connection.SettleDecisionAsync(resource, decision.Allowed, decision.Reason, cancellationToken))
            return;

        // 3. Connect, answer, relay until either side ends or the certificate expires.
        if (await UpstreamRelay.ConnectAsync(connection, app.Host, app.Port, $"app '{app.Name}' at {app.Address}", cancellationToken) is not { } upstream)
            return;
        var outcome = await UpstreamRelay.RelayAsync(connection, upstream, options.PingInterval, time, metrics, cancellationToken);
        ProxyLog.SessionEnded(logger, connection.Facts.ConnectionId, connection.Caller.User, resource, outcome.BytesIn, outcome.BytesOut, outcome.How);
    }
}
