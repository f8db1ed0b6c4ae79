using Gatehouse.Audit;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>
/// Serves one kind of forwarded resource (HTTP apps, Kubernetes API servers) after the header guard and before the
/// proxy's own endpoints: match the request to a resource, find the caller, let the roles decide (audited), then forward
/// with YARP's <see cref="IHttpForwarder"/> through the kind's transformer and upstream client, for no longer than the
/// caller's credential lasts. What differs between kinds is the kind's <see cref="ResourceForwarding{TResource, TGrant}"/>.
/// </summary>
internal sealed class ForwardingMiddleware<TResource, TGrant>(
    RequestDelegate next,
    ResourceForwarding<TResource, TGrant> kind,
    IHttpForwarder forwarder,
    AccessAudit audit,
    TimeProvider time,
    ILogger<ForwardingMiddleware<TResource, TGrant>> logger) where TResource : class, IForwardedResource
{
    // One decision per (user, resource, outcome) a minute reaches the audit trail: a page load or a kubectl command is many
    // requests, not many decisions.
    private readonly AuditThrottle _decisionAudit = new(TimeSpan.FromMinutes(1));

    public Task InvokeAsync(HttpContext context)
    {
        // 1. Which resource, if any. A request for another kind passes on without an async state machine of this one.
        var match = kind.Match(context, out var notFound);
        if (match is null)
            return notFound is null ? next(context) : kind.WriteRefusalAsync(context, ForwardingRefusal.NotFound, notFound, null);
        return ForwardAsync(context, match);
    }

    private async Task ForwardAsync(HttpContext context, ResourceMatch<TResource> match)
    {
        var resource = match.Target;
        if (match.ByPathPrefix && !match.RemainingPath.HasValue)
        {
            // /apps/NAME → /apps/NAME/, so that the resource's relative links resolve under the prefix.
            context.Response.Redirect(resource.PathPrefix + "/" + context.Request.QueryString, permanent: false);
            return;
        }

        // 2. Who: the client certificate (our handshake or a trusted front's header); only when the request carried none
        //    at all, whatever else the kind accepts (a browser's web session for apps).
        var (caller, verdict) = await ClientCertificateAuthenticationHandler.AuthenticateAsync(context);
        if (caller is null && verdict.Status == ForwardedStatus.NoCertificate)
        {
            (caller, var answered) = await kind.CallerWithoutCertificateAsync(context, match);
            if (answered) return;
        }
        if (caller is null)
        {
            await kind.WriteRefusalAsync(context, ForwardingRefusal.Unauthenticated,
                ClientCertificateAuthenticationHandler.Refusal(verdict, kind.NoCertificateHint), resource);
            return;
        }

        // 3. May they: the kind's decision, audited.
        var decision = await kind.DecideAsync(caller, match, context.RequestAborted);
        var details = new Dictionary<string, string> { ["arrival"] = match.Arrival };
        if (decision.AuditDetails is { } extra)
            foreach (var (name, value) in extra) details[name] = value;
        await audit.DecisionAsync(caller, resource.Resource, AuditWords.Outcome(decision.Allowed), decision.Reason, details, context.RequestAborted,
            _decisionAudit);
        if (!decision.Allowed)
        {
            ProxyLog.ForwardingDenied(logger, caller.User, kind.Kind, resource.Name, decision.Reason);
            await kind.WriteRefusalAsync(context, ForwardingRefusal.Forbidden, decision.Reason, resource);
            return;
        }

        // 4. Forward: YARP streams the bodies and upgrades through the kind's transformer and client; a watch, a log stream,
        //    an exec session or an app's WebSocket is cut when the credential it was allowed with expires.
        var transformer = kind.Transformer(caller, match, decision.Grant);
        using var expiry = new CredentialExpiry(caller, time);
        using var endAtExpiry = expiry.Token.UnsafeRegister(_ =>
        {
            ProxyLog.EndedAtExpiry(logger, caller.User, resource.Resource, caller.Credential, caller.ExpiresAt);
            context.Abort();
        }, null);
        var error = await forwarder.SendAsync(context, resource.Upstream.ToString(), kind.Client(resource), kind.RequestConfig, transformer);
        if (error != ForwarderError.None) await ReportForwardingErrorAsync(context, resource, error);
    }

    /// <summary>YARP has set 502 or 504 (when the response had not started); say which resource and why in one sentence.</summary>
    private async Task ReportForwardingErrorAsync(HttpContext context, TResource resource, ForwarderError error)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        ProxyLog.ForwardingFailed(logger, kind.Kind, resource.Name, error.ToString(), exception?.Message ?? "");
        if (context.Response.HasStarted || ForwardedRequestHeaders.IsClientCancellation(error)) return;
        var refusal = context.Response.StatusCode == StatusCodes.Status504GatewayTimeout ? ForwardingRefusal.TimedOut : ForwardingRefusal.Unreachable;
        await kind.WriteRefusalAsync(context, refusal, kind.FailureSentence(resource, refusal, ForwardedRequestHeaders.Cause(exception)), resource);
    }
}
