using System.Net;
using System.Net.Http;
using System.Text.Encodings.Web;
using Gatehouse.Proxy;
using Gatehouse.Proxy.Resources;
using Gatehouse.Access;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// Serves HTTP apps (resources.http_apps) after authentication and before the proxy's own endpoints: find the app,
/// require an identity, let the roles decide, then forward with YARP's <see cref="IHttpForwarder"/>.
/// </summary>
internal sealed class HttpAppMiddleware
{
    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = TimeSpan.FromMinutes(2) };

    private readonly RequestDelegate _next;
    private readonly HttpAppRoutes _routes;
    private readonly IHttpForwarder _forwarder;
    private readonly ClusterState _cluster;
    private readonly AccessAudit _audit;
    private readonly RoleCatalog _roles;
    private readonly ProxyOptions _options;
    private readonly IReadOnlySet<string> _certificateHeaderNames;
    private readonly ILogger _logger;
    private readonly string _issuer;
    // One decision per (user, app, outcome) a minute reaches the audit trail: every request of a page load is not news.
    private readonly AuditThrottle _decisionAudit = new(TimeSpan.FromMinutes(1));
    private readonly HttpMessageInvoker _client;
    private readonly WebSessionCookie _sessions;
    private readonly IdentityAssertionCache _assertions;
    // A singleton: it remembers which apps it has reported; the transformer is made per request.
    private readonly ProxyCookieFilter _cookies;

    /// <summary>The one client to every app (a DI singleton, so it is disposed with the host).</summary>
    public static HttpMessageInvoker CreateClient() => new(ForwardingHandler.Create());

    public HttpAppMiddleware(RequestDelegate next, HttpAppRoutes routes, IHttpForwarder forwarder, HttpMessageInvoker client, ClusterState cluster,
        RoleCatalog roles, ProxyOptions options, ForwardedCertificateAuthenticator authenticator, WebSessionCookie sessions, ProxyCookieFilter cookies, AccessAudit audit, ILogger<HttpAppMiddleware> logger)
    {
        _cookies = cookies;
        _sessions = sessions;
        _client = client;
        _next = next;
        _routes = routes;
        _forwarder = forwarder;
        _cluster = cluster;
        _audit = audit;
        _roles = roles;
        _options = options;
        _certificateHeaderNames = authenticator.Options.CertificateHeaderNames;
        _logger = logger;
        _issuer = IssuerOf(options);
        _assertions = new IdentityAssertionCache(cluster.Time);
    }

    /// <summary>The proxy's first public address as an https URL: the JWT's iss, under which /.well-known/jwks.json is.</summary>
    public static string IssuerOf(ProxyOptions options)
    {
        var host = options.PublicAddresses[0];
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) host = $"[{host}]";
        return options.Listen.Port == 443 ? $"https://{host}" : $"https://{host}:{options.Listen.Port}";
    }

    public async Task InvokeAsync(HttpContext context)
    {
        // 1. Which app, if any: host name first, then /apps/NAME/.
        var match = _routes.Match(context.Request, out var unknownName);
        if (match is null)
        {
            if (unknownName is null)
            {
                await _next(context);
                return;
            }
            await WriteAsync(context, StatusCodes.Status404NotFound, "Not found",
                $"there is no HTTP app named '{unknownName}' (this proxy serves: {(_routes.IsEmpty ? "none" : string.Join(", ", _routes.Names))})", null);
            return;
        }
        if (match.ByPathPrefix && !match.RemainingPath.HasValue)
        {
            // /apps/NAME → /apps/NAME/, so that the app's relative links resolve under the prefix.
            context.Response.Redirect(match.App.PathPrefix + "/" + context.Request.QueryString, permanent: false);
            return;
        }

        // 2. Who: the caller by client certificate (our handshake or a trusted front's header); only when the
        //    request carried no certificate at all, a browser's web session cookie.
        var (caller, refusal, presented) = await RequestCallers.ByCertificateAsync(context,
            "no client certificate: present your Gatehouse certificate (curl --cert), directly or through a trusted front, or sign in with a browser");
        if (caller is null && !presented)
        {
            var session = _sessions.Read(context, out var problem);
            if (problem is not null)
                ProxyLog.WebSessionIgnored(_logger, (context.Features.Get<RequestIdentityFeature>()?.Client ?? IPAddress.None).ToString(), problem);
            if (session is not null)
            {
                // Inside a tunnel a front vouched for, the session must be that user's, as a certificate must (docs/alb-mtls.md).
                var sessionCaller = session.CallerFrom(context.Features.Get<RequestIdentityFeature>()?.Client ?? context.Connection.RemoteIpAddress ?? IPAddress.None);
                if (context.Features.Get<TunnelledConnection>() is { Outer: { } outer } tunnel
                    && await TunnelBinding.EnforceAsync(_audit, _logger, outer, sessionCaller, tunnel.Arrival, context.Connection.Id, context.RequestAborted) is { } bindingRefusal)
                {
                    await WriteAsync(context, StatusCodes.Status401Unauthorized, "Sign-in required", bindingRefusal, match.App.Name);
                    return;
                }
                caller = sessionCaller;
            }
            else if (IsBrowser(context.Request))
            {
                // A browser with nothing to show: to the sign-in form on this same host, and back here afterwards.
                context.Response.Headers.CacheControl = "no-store";
                context.Response.Redirect(LoginPage.LoginPath + "?then=" + Uri.EscapeDataString(context.Request.GetEncodedPathAndQuery()));
                return;
            }
        }
        if (caller is null)
        {
            await WriteAsync(context, StatusCodes.Status401Unauthorized, "Sign-in required", refusal, match.App.Name);
            return;
        }
        var identity = caller.Identity;

        // 3. May they: the roles' app_labels.
        var decision = (await _roles.CheckerForAsync(identity, context.RequestAborted)).CheckApp(match.App.Name, match.App.Labels);
        await _audit.DecisionAsync(caller, match.App.Resource, AuditWords.Outcome(decision.Allowed), decision.Reason,
            new Dictionary<string, string> { ["arrival"] = match.ByPathPrefix ? "path-prefix" : "host" }, context.RequestAborted, _decisionAudit);
        if (!decision.Allowed)
        {
            ProxyLog.AppAccessDenied(_logger, identity.User, match.App.Name, decision.Reason);
            await WriteAsync(context, StatusCodes.Status403Forbidden, "Access denied", decision.Reason, match.App.Name);
            return;
        }

        // 4. Forward: YARP streams the bodies and upgrades; the transformer does headers, path and the assertion.
        var assertion = _assertions.Get(_cluster.Authorities.Jwt, _issuer, identity, match.App, caller.ExpiresAt);
        var transformer = new HttpAppTransformer(match, assertion, caller.Client, _certificateHeaderNames, _cookies);
        using var expiry = new CredentialExpiry(caller, _cluster.Time);
        using var abort = expiry.Token.UnsafeRegister(_ =>
        {
            ProxyLog.EndedAtExpiry(_logger, caller.User, match.App.Resource, caller.Credential, caller.ExpiresAt);
            context.Abort();
        }, null);
        var error = await _forwarder.SendAsync(context, match.App.Uri.ToString(), _client, RequestConfig, transformer);
        if (error != ForwarderError.None) await ReportForwardingErrorAsync(context, match.App, error);
    }


    /// <summary>YARP has set 502 or 504 (when the response had not started); say which app and why in one sentence.</summary>
    private async Task ReportForwardingErrorAsync(HttpContext context, HttpApp app, ForwarderError error)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        ProxyLog.AppForwardingFailed(_logger, app.Name, error.ToString(), exception?.Message ?? "");
        if (context.Response.HasStarted || ForwardedRequestHeaders.IsClientCancellation(error)) return;
        var timedOut = context.Response.StatusCode == StatusCodes.Status504GatewayTimeout;
        var sentence = timedOut
            ? $"app '{app.Name}' did not answer in time; try again, or tell its owner"
            : $"app '{app.Name}' is not reachable ({ForwardedRequestHeaders.Cause(exception)}); tell its owner";
        await WriteAsync(context, context.Response.StatusCode is >= 500 ? context.Response.StatusCode : StatusCodes.Status502BadGateway,
            timedOut ? "Gateway timeout" : "Bad gateway", sentence, app.Name);
    }

    private static bool IsBrowser(HttpRequest request) => request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>A short HTML page for browsers, JSON for everything else (curl, API clients).</summary>
    private static async Task WriteAsync(HttpContext context, int status, string title, string reason, string? app)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        if (IsBrowser(context.Request))
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            var html = HtmlEncoder.Default;
            await context.Response.WriteAsync($"""
                <!doctype html>
                <html><head><meta charset="utf-8"><title>{html.Encode(title)} — Gatehouse</title></head>
                <body><h1>{html.Encode(title)}</h1><p>{html.Encode(reason)}</p>{(app is null ? "" : $"<p>App: {html.Encode(app)}</p>")}</body></html>
                """, context.RequestAborted);
            return;
        }
        await context.Response.WriteAsJsonAsync(new { error = reason, app, status }, context.RequestAborted);
    }
}
