using System.Net;
using Gatehouse.Access;
using Gatehouse.Access.Roles;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Resources;
using Microsoft.AspNetCore.Connections.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Kube;

/// <summary>
/// The Kubernetes API of resources.kube_clusters as the forwarding middleware serves it: host <c>kube-gatehouse.*</c>
/// or /kube/NAME/; a client certificate only; the roles' kube_labels decide and kube_users/kube_groups say whom to
/// impersonate; the proxy's own credentials go to the API server; refusals are Kubernetes Status objects.
/// </summary>
internal sealed class KubeForwarding(KubeRoutes routes, KubeUpstreams upstreams, RoleCatalog roles, UpstreamHeaderRules rules)
    : ResourceForwarding<KubeCluster, KubeAccess>
{
    // Watches and log follows are long and quiet: the API server sends a bookmark or nothing for minutes.
    // HTTP/1.1 exactly: several Impersonate-Group lines need it (ImpersonateGroupEncoding). exec/attach/port-forward are
    // HTTP/1.1 upgrades (WebSocket, or SPDY for old clients) that YARP passes on as such; UseWebSockets before us only
    // offers a WebSocket feature, which nothing on this path accepts.
    private static readonly ForwarderRequestConfig Config = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(30),
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public override string Kind => "kubernetes cluster";

    public override string NoCertificateHint => "no client certificate: put your Gatehouse certificate in the kubeconfig (client-certificate, client-key)";

    public override ForwarderRequestConfig RequestConfig => Config;

    public override ResourceMatch<KubeCluster>? Match(HttpContext context, out string? notFound) =>
        routes.Match(context.Request, context.Features.Get<ITlsHandshakeFeature>()?.HostName, out notFound);

    /// <summary>kube_labels, and as whom: the first of kube_users (else the user's own name) and kube_groups.</summary>
    public override async ValueTask<ForwardingDecision<KubeAccess>> DecideAsync(Caller caller, ResourceMatch<KubeCluster> match,
        CancellationToken cancellationToken)
    {
        var access = (await roles.CheckerForAsync(caller.Identity, cancellationToken)).CheckKube(match.Target.Name, match.Target.Labels);
        var details = access.Allowed
            ? new Dictionary<string, string> { ["kube_user"] = ImpersonatedUser(caller, access), ["kube_groups"] = string.Join(",", access.Groups) }
            : null;
        return new ForwardingDecision<KubeAccess>(access.Allowed, access.Decision.Reason, access, details);
    }

    public override HttpTransformer Transformer(Caller caller, ResourceMatch<KubeCluster> match, KubeAccess grant) =>
        new KubeTransformer(match, caller, ImpersonatedUser(caller, grant), grant.Groups, rules);

    public override HttpMessageInvoker Client(KubeCluster resource) => upstreams.For(resource);

    public override string FailureSentence(KubeCluster resource, ForwardingRefusal refusal, string cause) => refusal == ForwardingRefusal.TimedOut
        ? $"the API server of kubernetes cluster '{resource.Name}' did not answer in time"
        : $"the API server of kubernetes cluster '{resource.Name}' is not reachable from the proxy ({cause})";

    /// <summary>A Status kubectl prints as its own ("Error from server (Forbidden): ...").</summary>
    public override Task WriteRefusalAsync(HttpContext context, ForwardingRefusal refusal, string sentence, KubeCluster? resource)
    {
        var (code, reason) = refusal switch
        {
            ForwardingRefusal.NotFound => (StatusCodes.Status404NotFound, KubeStatus.NotFound),
            ForwardingRefusal.Unauthenticated => (StatusCodes.Status401Unauthorized, KubeStatus.Unauthorized),
            ForwardingRefusal.Forbidden => (StatusCodes.Status403Forbidden, KubeStatus.Forbidden),
            ForwardingRefusal.TimedOut => (StatusCodes.Status504GatewayTimeout, KubeStatus.Timeout),
            _ => (StatusCodes.Status503ServiceUnavailable, KubeStatus.ServiceUnavailable),
        };
        return KubeStatus.WriteAsync(context, code, reason, sentence);
    }

    private static string ImpersonatedUser(Caller caller, KubeAccess access) => access.Users.Count > 0 ? access.Users[0] : caller.User;
}
