using System.Text.Encodings.Web;

namespace Gatehouse.Proxy.Sessions;

/// <summary>The sign-in form and the short pages around it: plain HTML, no script, nothing loaded from elsewhere.</summary>
internal static class LoginPage
{
    public const string LoginPath = "/.gatehouse/login", LogoutPath = "/.gatehouse/logout";
    private const string Style = "body{font-family:sans-serif;max-width:28em;margin:3em auto} .error{color:#b00} label{display:block} input{width:100%}";

    /// <summary>The form, with <paramref name="error"/> above it when a sign-in was refused and the user name kept.</summary>
    public static Task WriteFormAsync(HttpContext context, int status, string then, string? error, string? user, string? notice = null)
    {
        var html = HtmlEncoder.Default;
        var message = error is not null ? $"""<p class="error" role="alert">{html.Encode(error)}</p>"""
            : notice is not null ? $"""<p class="notice">{html.Encode(notice)}</p>""" : "";
        return WriteAsync(context, status, "Sign in", $"""
            <h1>Sign in to Gatehouse</h1>
            {message}
            <form method="post" action="{LoginPath}">
              <input type="hidden" name="then" value="{html.Encode(then)}">
              <p><label>User <input name="user" autocomplete="username" required autofocus value="{html.Encode(user ?? "")}"></label></p>
              <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
              <p><label>One-time code <input name="totp" autocomplete="one-time-code" inputmode="numeric" placeholder="if you have one"></label></p>
              <p><button type="submit">Sign in</button></p>
            </form>
            """);
    }

    /// <summary>A page with a heading and one sentence (refusals that are not about the credentials).</summary>
    public static Task WriteMessageAsync(HttpContext context, int status, string title, string sentence) =>
        WriteAsync(context, status, title, $"<h1>{HtmlEncoder.Default.Encode(title)}</h1><p>{HtmlEncoder.Default.Encode(sentence)}</p>");

    private static Task WriteAsync(HttpContext context, int status, string title, string body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        // A credentials form: never cached, never framed (clickjacking), posts only to this origin, runs no script.
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        return response.WriteAsync($"""
            <!doctype html>
            <html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{HtmlEncoder.Default.Encode(title)} — Gatehouse</title>
            <style>{Style}</style>
            </head><body>
            {body}
            </body></html>
            """, context.RequestAborted);
    }
}

/// <summary>Where to send the browser after signing in: only a path on this same host, never anywhere else.</summary>
internal static class ReturnPath
{
    public const string Default = "/";
    private const int MaxLength = 4096;

    /// <summary>
    /// <paramref name="then"/> when it is a same-host path: one leading "/", not "//" or "/\" (browsers read both as
    /// another host), printable ASCII only (browsers drop tabs and newlines, which would turn "/\t/evil" into "//evil";
    /// a response header cannot carry control characters anyway), no backslash, not back into the sign-in pages.
    /// Anything else is "/".
    /// </summary>
    public static string Sanitize(string? then)
    {
        if (string.IsNullOrEmpty(then) || then.Length > MaxLength || then[0] != '/') return Default;
        if (then.Length > 1 && then[1] is '/' or '\\') return Default;
        foreach (var c in then)
            if (c is < '!' or > '~' or '\\') return Default;
        if (then.StartsWith("/.gatehouse/", StringComparison.OrdinalIgnoreCase)) return Default;
        return then;
    }
}
