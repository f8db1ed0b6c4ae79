using Gatehouse.Access;
using Gatehouse.Audit;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services.Ssh;

/// <summary>
/// <c>gatehouse-ssh</c>: OpenSSH nodes (resources.ssh_nodes), agentless. The dial names the node and the login; the
/// roles (node_labels, logins — deny wins) and the certificate (the login must be one of its principals, which is what
/// the OpenSSH certificate beside it carries) decide; then the SSH bytes go to the node's sshd untouched. The refusal is
/// a sentence that OpenSSH shows the user, since <c>gatehouse proxy ssh</c> is its ProxyCommand and prints to stderr.
/// </summary>
internal sealed class SshNodeHandler(ProxyOptions options, RoleCatalog roles, TimeProvider time, GatehouseMetrics metrics,
    ILogger<SshNodeHandler> logger) : IProtocolHandler
{
    private readonly Dictionary<string, SshNode> _nodes = options.SshNodes.ToDictionary(n => n.Name, StringComparer.OrdinalIgnoreCase);

    public string Protocol => AlpnProtocols.Ssh;

    public async Task ServeAsync(ServiceConnection connection, CancellationToken cancellationToken)
    {
        var request = connection.Request;
        var identity = connection.Caller.Identity;

        // 1. Which node, as whom.
        if (!_nodes.TryGetValue(request.Target, out var node))
        {
            await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.NotFound,
                $"there is no SSH node named '{request.Target}' behind this proxy; `gatehouse ls nodes` lists the ones you may reach"), cancellationToken);
            return;
        }
        if (string.IsNullOrEmpty(request.Login))
        {
            await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.BadRequest,
                $"no login given for node '{node.Name}': name the user to log in as (ssh LOGIN@{node.Name})"), cancellationToken);
            return;
        }
        var login = request.Login;

        // 2. May they: the roles now, and the certificate as issued (its logins are the OpenSSH certificate's principals).
        var decision = (await roles.CheckerForAsync(identity, cancellationToken)).CheckNode(node.Name, node.Labels, login);
        var reason = !decision.Allowed ? decision.Reason
            : !identity.Logins.Contains(login, StringComparer.Ordinal)
                ? $"your certificate does not carry login '{login}' (it carries: {(identity.Logins.Count == 0 ? "none" : string.Join(", ", identity.Logins))}); " +
                  "log in again (`gatehouse login`) if your roles changed since it was issued"
                : null;
        if (reason is not null)
            ProxyLog.NodeAccessDenied(logger, identity.User, login, node.Name, reason);
        if (!await connection.SettleDecisionAsync(node.Resource, reason is null, reason ?? decision.Reason, cancellationToken))
            return;

        // 3. Connect, then relay the SSH bytes; the session's start and end are audited with what it moved.
        if (await UpstreamRelay.ConnectAsync(connection, node.Host, node.Port, $"node '{node.Name}' at {node.Address}", cancellationToken) is not { } upstream)
            return;
        var details = new Dictionary<string, string> { ["node"] = node.Name, ["login"] = login, ["arrival"] = connection.Facts.Arrival };
        await connection.AuditSessionAsync(AuditEventTypes.SshSessionStart, node.Resource, details, cancellationToken);
        var outcome = await UpstreamRelay.RelayAsync(connection, upstream, options.PingInterval, time, metrics, cancellationToken);
        ProxyLog.SessionEnded(logger, connection.Facts.ConnectionId, identity.User, $"{login}@{node.Resource}", outcome.BytesIn, outcome.BytesOut, outcome.How);
        // The session is over whatever happens to the request: its end is recorded even when the proxy is stopping.
        await connection.AuditSessionAsync(AuditEventTypes.SshSessionEnd, node.Resource, outcome.AddTo(details), CancellationToken.None);
    }
}
