using System.Net;
using Gatehouse.Proxy;
using Gatehouse.Proxy.Resources;
using Gatehouse.Access;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Kube;

/// <summary>
/// Serves the Kubernetes API of resources.kube_clusters after authentication: find the cluster (host
/// <c>kube-gatehouse.*</c> or /kube/NAME/), require an identity, let the roles' kube_labels decide, then forward with
/// YARP's <see cref="IHttpForwarder"/> — the same forwarder HTTP apps use — impersonating the user. Refusals are
/// Kubernetes Status objects.
/// </summary>
internal sealed class KubeMiddleware
{
    // Watches and log follows are long and quiet: the API server sends a bookmark or nothing for minutes.
    // HTTP/1.1 exactly: several Impersonate-Group lines need it (ImpersonateGroupEncoding). exec/attach/port-forward are
    // HTTP/1.1 upgrades (WebSocket, or SPDY for old clients) that YARP passes on as such; UseWebSockets before us only
    // offers a WebSocket feature, which nothing on this path accepts.
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(30),
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    private readonly RequestDelegate _next;
    private readonly KubeRoutes _routes;
    private readonly KubeUpstreams _upstreams;
    private readonly IHttpForwarder _forwarder;
    private readonly ClusterState _cluster;
    private readonly AccessAudit _audit;
    private readonly RoleCatalog _roles;
    private readonly ProxyOptions _options;
    private readonly IReadOnlySet<string> _certificateHeaderNames;
    private readonly ILogger _logger;
    private readonly ProxyCookieFilter _cookies;
    // One decision per (user, cluster, outcome) a minute reaches the audit trail: kubectl makes several requests per command.
    private readonly AuditThrottle _decisionAudit = new(TimeSpan.FromMinutes(1));

    public KubeMiddleware(RequestDelegate next, KubeRoutes routes, KubeUpstreams upstreams, IHttpForwarder forwarder, ClusterState cluster,
        RoleCatalog roles, ProxyOptions options, ForwardedCertificateAuthenticator authenticator, ProxyCookieFilter cookies, AccessAudit audit, ILogger<KubeMiddleware> logger)
    {
        _cookies = cookies;
        _next = next;
        _routes = routes;
        _upstreams = upstreams;
        _forwarder = forwarder;
        _cluster = cluster;
        _audit = audit;
        _roles = roles;
        _options = options;
        _certificateHeaderNames = authenticator.Options.CertificateHeaderNames;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        // 1. Which cluster, if any.
        var match = _routes.Match(context.Request, context.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>()?.HostName,
            out var notFound);
        if (match is null)
        {
            if (notFound is null) await _next(context);
            else await KubeStatus.WriteAsync(context, StatusCodes.Status404NotFound, KubeStatus.NotFound, notFound);
            return;
        }

        // 2. Who: the caller by client certificate (our handshake or a trusted front's header).
        var (caller, refusal, _) = await RequestCallers.ByCertificateAsync(context,
            "no client certificate: put your Gatehouse certificate in the kubeconfig (client-certificate, client-key)");
        if (caller is null)
        {
            await KubeStatus.WriteAsync(context, StatusCodes.Status401Unauthorized, KubeStatus.Unauthorized, refusal);
            return;
        }
        var identity = caller.Identity;

        // 3. May they, and as whom: kube_labels, kube_users, kube_groups.
        var access = (await _roles.CheckerForAsync(identity, context.RequestAborted)).CheckKube(match.Cluster.Name, match.Cluster.Labels);
        var user = access.Users.Count > 0 ? access.Users[0] : identity.User;
        var details = new Dictionary<string, string> { ["arrival"] = match.ByPathPrefix ? "path-prefix" : "host" };
        if (access.Allowed)
        {
            details["kube_user"] = user;
            details["kube_groups"] = string.Join(",", access.Groups);
        }
        await _audit.DecisionAsync(caller, match.Cluster.Resource, AuditWords.Outcome(access.Allowed), access.Decision.Reason, details, context.RequestAborted,
            _decisionAudit);
        if (!access.Allowed)
        {
            ProxyLog.KubeAccessDenied(_logger, identity.User, match.Cluster.Name, access.Decision.Reason);
            await KubeStatus.WriteAsync(context, StatusCodes.Status403Forbidden, KubeStatus.Forbidden, access.Decision.Reason);
            return;
        }

        // 4. Forward: YARP streams bodies (watch, logs) and upgrades; the transformer sets credentials and impersonation.
        var transformer = new KubeTransformer(match, user, access.Groups, caller.Client, _certificateHeaderNames, _cookies);
        using var expiry = new CredentialExpiry(caller, _cluster.Time);
        using var abort = expiry.Token.UnsafeRegister(_ =>
        {
            ProxyLog.EndedAtExpiry(_logger, caller.User, match.Cluster.Resource, caller.Credential, caller.ExpiresAt);
            context.Abort();
        }, null);
        var error = await _forwarder.SendAsync(context, match.Cluster.ApiServer.ToString(), _upstreams.For(match.Cluster), RequestConfig, transformer);
        if (error != ForwarderError.None) await ReportForwardingErrorAsync(context, match.Cluster, error);
    }


    /// <summary>YARP has set 502 or 504 (when the response had not started); answer a Status kubectl can print.</summary>
    private async Task ReportForwardingErrorAsync(HttpContext context, KubeCluster cluster, ForwarderError error)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        ProxyLog.KubeForwardingFailed(_logger, cluster.Name, error.ToString(), exception?.Message ?? "");
        if (context.Response.HasStarted || ForwardedRequestHeaders.IsClientCancellation(error)) return;
        if (context.Response.StatusCode == StatusCodes.Status504GatewayTimeout)
            await KubeStatus.WriteAsync(context, StatusCodes.Status504GatewayTimeout, KubeStatus.Timeout,
                $"the API server of kubernetes cluster '{cluster.Name}' did not answer in time");
        else
            await KubeStatus.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, KubeStatus.ServiceUnavailable,
                $"the API server of kubernetes cluster '{cluster.Name}' is not reachable from the proxy ({ForwardedRequestHeaders.Cause(exception)})");
    }
}
