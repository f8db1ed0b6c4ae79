using System.Collections.Concurrent;
using Gatehouse.Proxy.Sessions;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>
/// Keeps the far side (an HTTP app, a Kubernetes API server) from setting the proxy's own cookies. Apps share the proxy's
/// origin (<c>/apps/NAME/</c>), so an app's <c>Set-Cookie: __Host-gatehouse-session=…</c> would reach the browser as the
/// proxy's session: session fixation across every app on that origin (issue 11). Kubernetes responses get the same
/// treatment: <c>/kube/NAME/</c> is on that origin too, and an API server relays whatever an aggregated API or a
/// service/pod <c>proxy</c> subresource answers. One singleton: it remembers which resources were already reported.
/// </summary>
internal sealed class ProxyCookieFilter(ILogger<ProxyCookieFilter> logger)
{
    /// <summary>Every cookie the proxy sets. A new one goes here too.</summary>
    private static readonly string[] ProxyCookieNames = [WebSessionCookie.Name];

    // Bounded by configuration: one entry per app or cluster that ever misbehaved.
    private readonly ConcurrentDictionary<string, byte> _reported = new(StringComparer.Ordinal);

    /// <summary>Drops every <c>Set-Cookie</c> of <paramref name="response"/> that names a proxy cookie; the first time
    /// <paramref name="resource"/> does it, a Warning so its owner can be told, later ones at Debug.</summary>
    public void RemoveProxyCookies(HttpResponse response, string resource)
    {
        var setCookies = response.Headers.SetCookie;
        if (setCookies.Count == 0) return;
        List<string>? kept = null;
        for (var i = 0; i < setCookies.Count; i++)
        {
            var line = setCookies[i] ?? "";
            var name = CookieName(line);
            if (!IsProxyCookie(name))
            {
                kept?.Add(line);
                continue;
            }
            kept ??= [.. setCookies.Take(i).OfType<string>()];
            if (_reported.TryAdd(resource, 0)) ProxyLog.ProxyCookieFromUpstream(logger, resource, name);
            else ProxyLog.ProxyCookieFromUpstreamAgain(logger, resource, name);
        }
        if (kept is null) return;
        if (kept.Count == 0) response.Headers.Remove("Set-Cookie");
        else response.Headers.SetCookie = new StringValues([.. kept]);
    }

    /// <summary>
    /// True for a proxy cookie's name in any form a browser would keep apart but the proxy would read as its own:
    /// with or without a <c>__Host-</c> or <c>__Secure-</c> prefix, in any letter case. Browsers compare cookie names
    /// case-sensitively, but ASP.NET's request cookies do not (so <c>__HOST-GATEHOUSE-SESSION</c> from an app would be read
    /// as the session), and browsers match the prefixes case-insensitively (RFC 6265bis §4.1.3).
    /// </summary>
    public static bool IsProxyCookie(string name)
    {
        var bare = WithoutPrefix(name);
        foreach (var own in ProxyCookieNames)
            if (WithoutPrefix(own).Equals(bare, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// The name a browser stores a Set-Cookie line under, or for a nameless cookie the name it will appear to have when
    /// the browser sends it back: RFC 6265bis §5.6 takes the name up to the first '=' of the part before the first ';'
    /// (no '=' means an empty name and the whole part as value), and a nameless cookie goes back as its value alone, so
    /// <c>=gatehouse-session=x</c> returns as <c>gatehouse-session=x</c>.
    /// </summary>
    public static string CookieName(string setCookie)
    {
        var pair = setCookie.AsSpan();
        var semicolon = pair.IndexOf(';');
        if (semicolon >= 0) pair = pair[..semicolon];
        var equals = pair.IndexOf('=');
        var name = equals < 0 ? [] : pair[..equals].Trim();
        if (name.IsEmpty)
        {
            var value = equals < 0 ? pair : pair[(equals + 1)..];
            var inner = value.IndexOf('=');
            name = (inner < 0 ? value : value[..inner]).Trim();
        }
        return name.ToString();
    }

    private static ReadOnlySpan<char> WithoutPrefix(string name)
    {
        foreach (var prefix in (ReadOnlySpan<string>)["__Host-", "__Secure-"])
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return name.AsSpan(prefix.Length);
        return name;
    }
}
