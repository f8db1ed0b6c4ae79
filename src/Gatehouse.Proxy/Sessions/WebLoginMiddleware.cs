using System.Net;
using Gatehouse.Access.Login;
using Gatehouse.Proxy.Authentication;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Proxy.Sessions;

/// <summary>
/// The proxy's own pages under <c>/.gatehouse/</c>, on every host it answers (an app's own host name included, so the
/// host-only cookie lands where the app is): <c>GET /.gatehouse/login?then=PATH</c> shows the form, <c>POST</c> checks the
/// credentials through <see cref="LoginService"/> and sets the session cookie, <c>POST /.gatehouse/logout</c> clears it.
/// Runs before the apps, so no app can shadow these paths.
/// </summary>
internal sealed class WebLoginMiddleware(RequestDelegate next, LoginService logins, WebSessionCookie cookie, AccessAudit audit,
    ILogger<WebLoginMiddleware> logger)
{
    private const string Prefix = "/.gatehouse";
    private const long MaxFormBytes = 16 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase, out var rest))
        {
            await next(context);
            return;
        }
        var request = context.Request;
        switch (rest.Value)
        {
            case "/login" when HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method):
                await LoginPage.WriteFormAsync(context, StatusCodes.Status200OK, ReturnPath.Sanitize(request.Query["then"]), null, null,
                    request.Query.ContainsKey("signed_out") ? "You are signed out." : null);
                return;
            case "/login" when HttpMethods.IsPost(request.Method):
                await SignInAsync(context);
                return;
            case "/logout" when HttpMethods.IsPost(request.Method):
                await SignOutAsync(context);
                return;
            case "/login" or "/logout":
                context.Response.Headers.Allow = rest.Value == "/login" ? "GET, HEAD, POST" : "POST";
                await LoginPage.WriteMessageAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed",
                    $"{request.Method} is not used here; {(rest.Value == "/login" ? "open the sign-in form with GET and send it with POST" : "sign out with a POST (the sign-out button)")}");
                return;
            default:
                await LoginPage.WriteMessageAsync(context, StatusCodes.Status404NotFound, "Not found",
                    $"Gatehouse serves {LoginPage.LoginPath} and {LoginPage.LogoutPath} here, nothing else under {Prefix}/");
                return;
        }
    }

    private async Task SignInAsync(HttpContext context)
    {
        // 1. Only a form from this very origin (login CSRF: a foreign page must not sign the browser in as someone else).
        if (await RefusedCrossSiteAsync(context)) return;

        // 2. The form: a few fields, small, or a clear 400.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxFormBytes;
        if (!context.Request.HasFormContentType)
        {
            await LoginPage.WriteMessageAsync(context, StatusCodes.Status400BadRequest, "Bad request",
                "send the sign-in form as application/x-www-form-urlencoded (fields user, password, totp, then)");
            return;
        }
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or InvalidOperationException)
        {
            await LoginPage.WriteMessageAsync(context, StatusCodes.Status400BadRequest, "Bad request",
                $"the sign-in form could not be read (at most {MaxFormBytes / 1024} KiB of user, password, totp, then)");
            return;
        }
        var then = ReturnPath.Sanitize(form["then"]);
        string user = form["user"].ToString().Trim(), password = form["password"].ToString(), totp = form["totp"].ToString().Trim();
        if (user.Length == 0 || password.Length == 0)
        {
            await LoginPage.WriteFormAsync(context, StatusCodes.Status400BadRequest, then, "user name and password are required", user);
            return;
        }

        // 3. The same checks, throttles and audit as a certificate login.
        var client = Client(context);
        var sessionId = WebSessionCookie.NewSessionId();
        var result = await logins.WebLoginAsync(new LoginCredentials(user, password, totp.Length == 0 ? null : totp, client), sessionId,
            context.RequestAborted);
        if (!result.Ok)
        {
            ProxyLog.WebSignInRefused(logger, client.ToString(), result.Failure.ToString()!);
            var status = result.Failure switch
            {
                LoginFailure.Throttled => StatusCodes.Status429TooManyRequests,
                LoginFailure.Locked or LoginFailure.Forbidden => StatusCodes.Status403Forbidden,
                LoginFailure.BadRequest => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status401Unauthorized,
            };
            await LoginPage.WriteFormAsync(context, status, then, result.Message, user);
            return;
        }

        // 4. The cookie, then back to where the browser was going (303: the next request is a GET).
        var session = new WebSession(sessionId, result.Identity!, result.Identity!.IssuedAt, result.Expires!.Value);
        var value = cookie.Seal(session);
        if (value.Length > WebSessionCookie.MaxValueLength)
        {
            ProxyLog.WebSessionTooLarge(logger, session.Identity.User, value.Length);
            await LoginPage.WriteMessageAsync(context, StatusCodes.Status403Forbidden, "Session too large",
                "your roles and traits do not fit in a browser cookie; use your Gatehouse certificate (gatehouse app login) instead");
            return;
        }
        WebSessionCookie.Set(context.Response, value, session.ExpiresAt);
        ProxyLog.WebSignedIn(logger, session.Identity.User, sessionId, client.ToString(), session.ExpiresAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
        context.Response.Headers.CacheControl = "no-store";
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = then;
    }

    private async Task SignOutAsync(HttpContext context)
    {
        if (await RefusedCrossSiteAsync(context)) return;
        // Stateless: the browser forgets the cookie; a copy taken elsewhere would stay valid until it expires (docs/apps.md).
        if (cookie.Read(context, out _) is { } session)
        {
            ProxyLog.WebSignedOut(logger, session.Identity.User, session.Id);
            await audit.SignedOutAsync(session.Identity.User, session.Id, Client(context), context.RequestAborted);
        }
        WebSessionCookie.Clear(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = LoginPage.LoginPath + "?signed_out=1";
    }

    /// <summary>
    /// A POST whose Origin is present and is not this host over https is refused with 403 (RFC 6454 §7; browsers send
    /// Origin on every cross-site POST). The public scheme is https even when a balancer speaks plain HTTP to us. A request
    /// without Origin (curl, old browsers) goes on: SameSite=Lax already keeps the cookie off cross-site POSTs.
    /// </summary>
    private async Task<bool> RefusedCrossSiteAsync(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return false;
        var host = context.Request.Host.Value ?? "";
        if (host.Length > 0 && (origin.Equals("https://" + host, StringComparison.OrdinalIgnoreCase)
            || origin.Equals($"{context.Request.Scheme}://{host}", StringComparison.OrdinalIgnoreCase)))
            return false;
        ProxyLog.CrossSiteFormRefused(logger, context.Request.Path.Value ?? "", origin, host);
        await LoginPage.WriteMessageAsync(context, StatusCodes.Status403Forbidden, "Cross-site request refused",
            $"this form was sent from another site ({origin}), not from https://{host}; open {LoginPage.LoginPath} on this host and sign in there");
        return true;
    }

    /// <summary>The real client address (X-Forwarded-For walked past trusted hops by the header guard), for throttling and audit.</summary>
    private static IPAddress Client(HttpContext context) =>
        context.Features.Get<RequestIdentityFeature>()?.Client ?? context.Connection.RemoteIpAddress ?? IPAddress.None;
}
