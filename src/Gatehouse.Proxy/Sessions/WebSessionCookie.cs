using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Pki;

namespace Gatehouse.Proxy.Sessions;

/// <summary>
/// The web session cookie: <c>__Host-gatehouse-session</c> = base64url of the session sealed with the master key (AES-GCM,
/// purpose "web-session": nobody without the key can read, forge or alter it). The <c>__Host-</c> prefix makes browsers
/// insist on Secure, Path=/ and no Domain, so the cookie stays with the one host name that set it (RFC 6265bis §4.1.3.2).
/// </summary>
internal sealed class WebSessionCookie(MasterKey key, TimeProvider time)
{
    public const string Name = "__Host-gatehouse-session";
    public const string Purpose = "web-session";
    private const int FormatVersion = 1;

    /// <summary>Browsers keep at least 4096 bytes of name, value and attributes per cookie (RFC 6265 §6.1); stay under it.</summary>
    public const int MaxValueLength = 3800;

    /// <summary>Tolerated clock difference between proxies for a session issued "in the future".</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);

    public static string NewSessionId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The cookie value for a session.</summary>
    public string Seal(WebSession session)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new WebSessionPayload(FormatVersion, session), WebSessionJson.Default.WebSessionPayload);
        return Base64Url.EncodeToString(key.Seal(json, Purpose));
    }

    /// <summary>Opens a cookie value: the session when it unseals, parses and has not expired; otherwise null and why, in
    /// words fit for a Debug log (never the value itself).</summary>
    public WebSession? Open(string value, out string? problem)
    {
        problem = null;
        if (value.Length is 0 or > MaxValueLength * 2)
        {
            problem = "empty or oversized";
            return null;
        }
        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(value);
        }
        catch (FormatException)
        {
            problem = "not base64url";
            return null;
        }
        if (!key.TryUnseal(sealedBytes, Purpose, out var json, out _))
        {
            problem = "does not unseal with this cluster's master key (altered, or sealed by another cluster)";
            return null;
        }
        WebSessionPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(json, WebSessionJson.Default.WebSessionPayload);
        }
        catch (JsonException)
        {
            payload = null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(json);
        }
        if (payload is not { Version: FormatVersion, Session: { Identity.User.Length: > 0, Id.Length: > 0 } session })
        {
            problem = "unreadable content";
            return null;
        }
        var now = time.GetUtcNow();
        if (now >= session.ExpiresAt)
        {
            problem = $"expired at {session.ExpiresAt:u}";
            return null;
        }
        if (session.IssuedAt > now + ClockSkew)
        {
            problem = $"issued in the future ({session.IssuedAt:u})";
            return null;
        }
        return session;
    }

    /// <summary>The request's session, if its cookie opens. A cookie that does not is cleared (so the browser stops sending
    /// it) and <paramref name="problem"/> says why; no cookie is null with no problem.</summary>
    public WebSession? Read(HttpContext context, out string? problem)
    {
        problem = null;
        if (!context.Request.Cookies.TryGetValue(Name, out var value) || value is null) return null;
        var session = Open(value, out problem);
        if (session is null) Clear(context.Response);
        return session;
    }

    public static void Set(HttpResponse response, string value, DateTimeOffset expires) =>
        response.Cookies.Append(Name, value, Options(expires));

    /// <summary>Tells the browser to drop the cookie (same attributes, or a __Host- cookie is not replaced).</summary>
    public static void Clear(HttpResponse response) => response.Cookies.Delete(Name, Options(null));

    private static CookieOptions Options(DateTimeOffset? expires) => new()
    {
        Path = "/",
        Secure = true,
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        IsEssential = true,
        Expires = expires,
    };

    /// <summary>
    /// A Cookie header without the session cookie, keeping every other pair as sent; null when nothing is left. The app
    /// behind the proxy must never see the session: it would be a bearer credential for every other app.
    /// </summary>
    public static string? WithoutSessionCookie(IEnumerable<string> cookieHeaderValues)
    {
        var kept = new List<string>();
        foreach (var value in cookieHeaderValues)
            foreach (var pair in value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                var name = (equals < 0 ? pair : pair[..equals]).Trim();
                if (!name.Equals(Name, StringComparison.OrdinalIgnoreCase)) kept.Add(pair);
            }
        return kept.Count == 0 ? null : string.Join("; ", kept);
    }
}
