using System.Net;
using System.Text.Encodings.Web;
using Gatehouse.Access;
using Gatehouse.Access.Roles;
using Gatehouse.Pki;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Resources;
using Gatehouse.Proxy.Sessions;
using Microsoft.AspNetCore.Http.Extensions;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// HTTP apps (resources.http_apps) as the forwarding middleware serves them: by host name or /apps/NAME/; a certificate,
/// or for a browser without one its web session (else the sign-in form); the roles' app_labels decide; the app receives
/// a signed identity assertion; refusals are a short HTML page for browsers and JSON for everything else.
/// </summary>
internal sealed class HttpAppForwarding(HttpAppRoutes routes, RoleCatalog roles, Authorities authorities, ProxyOptions options,
    UpstreamHeaderRules rules, WebSessionCookie sessions, AccessAudit audit, TimeProvider time, ILogger<HttpAppForwarding> logger)
    : ResourceForwarding<HttpApp, AccessDecision>, IDisposable
{
    private static readonly ForwarderRequestConfig Config = new() { ActivityTimeout = TimeSpan.FromMinutes(2) };

    // The one client to every app, disposed with the host (this is a DI singleton).
    private readonly HttpMessageInvoker _client = new(ForwardingHandler.Create());
    private readonly IdentityAssertionCache _assertions = new(time);
    private readonly string _issuer = IdentityAssertion.IssuerOf(options);

    public override string Kind => "HTTP app";

    public override string NoCertificateHint =>
        "no client certificate: present your Gatehouse certificate (curl --cert), directly or through a trusted front, or sign in with a browser";

    public override ForwarderRequestConfig RequestConfig => Config;

    public override ResourceMatch<HttpApp>? Match(HttpContext context, out string? notFound) => routes.Match(context.Request, out notFound);

    /// <summary>A browser's web session, when the request carried no certificate at all; a browser with neither goes to the
    /// sign-in form on this same host, and comes back here afterwards.</summary>
    public override async ValueTask<(Caller? Caller, bool Answered)> CallerWithoutCertificateAsync(HttpContext context, ResourceMatch<HttpApp> match)
    {
        var client = context.Features.Get<RequestIdentityFeature>()?.Client ?? context.Connection.RemoteIpAddress ?? IPAddress.None;
        var session = sessions.Read(context, out var problem);
        if (problem is not null) ProxyLog.WebSessionIgnored(logger, client.ToString(), problem);
        if (session is not null)
        {
            var caller = session.CallerFrom(client);
            // Inside a tunnel a front vouched for, the session must be that user's, as a certificate must (docs/alb-mtls.md).
            if (context.Features.Get<TunnelledConnection>() is { Outer: { } outer } tunnel
                && await TunnelBinding.EnforceAsync(audit, logger, outer, caller, tunnel.Arrival, context.Connection.Id, context.RequestAborted) is { } refusal)
            {
                await WriteRefusalAsync(context, ForwardingRefusal.Unauthenticated, refusal, match.Target);
                return (null, true);
            }
            return (caller, false);
        }
        if (!IsBrowser(context.Request)) return (null, false);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Redirect(LoginPage.LoginPath + "?then=" + Uri.EscapeDataString(context.Request.GetEncodedPathAndQuery()));
        return (null, true);
    }

    /// <summary>The roles' app_labels.</summary>
    public override async ValueTask<ForwardingDecision<AccessDecision>> DecideAsync(Caller caller, ResourceMatch<HttpApp> match,
        CancellationToken cancellationToken)
    {
        var decision = (await roles.CheckerForAsync(caller.Identity, cancellationToken)).CheckApp(match.Target.Name, match.Target.Labels);
        return new ForwardingDecision<AccessDecision>(decision.Allowed, decision.Reason, decision);
    }

    public override HttpTransformer Transformer(Caller caller, ResourceMatch<HttpApp> match, AccessDecision grant) =>
        new HttpAppTransformer(match, caller, _assertions.Get(authorities.Jwt, _issuer, caller.Identity, match.Target, caller.ExpiresAt), rules);

    public override HttpMessageInvoker Client(HttpApp resource) => _client;

    public override string FailureSentence(HttpApp resource, ForwardingRefusal refusal, string cause) => refusal == ForwardingRefusal.TimedOut
        ? $"app '{resource.Name}' did not answer in time; try again, or tell its owner"
        : $"app '{resource.Name}' is not reachable ({cause}); tell its owner";

    /// <summary>A short HTML page for browsers, JSON for everything else (curl, API clients).</summary>
    public override async Task WriteRefusalAsync(HttpContext context, ForwardingRefusal refusal, string sentence, HttpApp? resource)
    {
        var (status, title) = refusal switch
        {
            ForwardingRefusal.NotFound => (StatusCodes.Status404NotFound, "Not found"),
            ForwardingRefusal.Unauthenticated => (StatusCodes.Status401Unauthorized, "Sign-in required"),
            ForwardingRefusal.Forbidden => (StatusCodes.Status403Forbidden, "Access denied"),
            ForwardingRefusal.TimedOut => (StatusCodes.Status504GatewayTimeout, "Gateway timeout"),
            // YARP has set the status (502, or 503 when it had nowhere to send the request): keep it.
            _ => (context.Response.StatusCode is >= 500 ? context.Response.StatusCode : StatusCodes.Status502BadGateway, "Bad gateway"),
        };
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        var app = resource?.Name;
        if (IsBrowser(context.Request))
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            var html = HtmlEncoder.Default;
            await context.Response.WriteAsync($"""
                <!doctype html>
                <html><head><meta charset="utf-8"><title>{html.Encode(title)} — Gatehouse</title></head>
                <body><h1>{html.Encode(title)}</h1><p>{html.Encode(sentence)}</p>{(app is null ? "" : $"<p>App: {html.Encode(app)}</p>")}</body></html>
                """, context.RequestAborted);
            return;
        }
        await context.Response.WriteAsJsonAsync(new { error = sentence, app, status }, context.RequestAborted);
    }

    private static bool IsBrowser(HttpRequest request) => request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    public void Dispose() => _client.Dispose();
}
