using System.Net;
using Gatehouse.ForwardedCerts;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>
/// The header rules every forwarded request follows, HTTP app or Kubernetes API (one forwarding path serves both, issue 6):
/// what must never reach the far side, and the X-Forwarded-* chain the proxy vouches for.
/// </summary>
internal static class ForwardedRequestHeaders
{
    /// <summary>The header carrying the proxy's signed identity assertion to HTTP apps.</summary>
    public const string AssertionHeaderName = "Gatehouse-Jwt-Assertion";

    /// <summary>
    /// Removes client-certificate headers (belt and braces: the header guard has already taken them out), every
    /// <c>Impersonate-*</c> header (a caller must not speak for someone else; for Kubernetes only the proxy sets them),
    /// X-Forwarded-* and Forwarded (re-added by <see cref="AddForwarded"/>), any client-sent assertion, and the web
    /// session cookie out of the Cookie header (the far side's own cookies stay). Names are matched with <c>_</c> and
    /// <c>-</c> as one character (<see cref="FoldedHeaderNameComparer"/>): a CGI-style app reads <c>Impersonate_User</c>
    /// and <c>Gatehouse_Jwt_Assertion</c> as the real thing.
    /// </summary>
    public static void RemoveUntrusted(HttpRequestMessage proxyRequest, IReadOnlySet<string> certificateHeaderNames)
    {
        var folded = FoldedHeaderNameComparer.Instance;
        foreach (var name in proxyRequest.Headers.Select(h => h.Key).ToList())
        {
            if (certificateHeaderNames.Contains(name) || FoldedHeaderNameComparer.StartsWith(name, "Impersonate-")
                || FoldedHeaderNameComparer.StartsWith(name, "X-Forwarded-") || folded.Equals(name, "Forwarded")
                || folded.Equals(name, AssertionHeaderName))
                proxyRequest.Headers.Remove(name);
        }
        if (proxyRequest.Headers.TryGetValues("Cookie", out var cookies))
        {
            var kept = Sessions.WebSessionCookie.WithoutSessionCookie(cookies);
            proxyRequest.Headers.Remove("Cookie");
            if (kept is not null) proxyRequest.Headers.TryAddWithoutValidation("Cookie", kept);
        }
    }

    /// <summary>
    /// X-Forwarded-For, -Proto and -Host, and -Prefix when the request came by path. X-Forwarded-For is what the request
    /// claimed left of its client (<paramref name="claimed"/>, from the header guard's <c>ClientAddress.Walk</c>), then the
    /// client address the proxy resolved: the rightmost entry is always one Gatehouse vouches for.
    /// </summary>
    public static void AddForwarded(HttpRequestMessage proxyRequest, IEnumerable<string> claimed, IPAddress client, string host, string? prefix)
    {
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For", string.Join(", ", claimed.Append(client.ToString())));
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Host", host);
        if (prefix is not null) proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", prefix);
    }

    /// <summary>The socket error's message when there is one (connection refused, …), else the exception's, in a few words.</summary>
    public static string Cause(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is System.Net.Sockets.SocketException socket) return socket.Message.TrimEnd('.');
        return exception?.Message.TrimEnd('.') ?? "no answer";
    }

    /// <summary>Errors that mean the client went away: nothing to tell anyone.</summary>
    public static bool IsClientCancellation(Yarp.ReverseProxy.Forwarder.ForwarderError error) => error is
        Yarp.ReverseProxy.Forwarder.ForwarderError.RequestCanceled or Yarp.ReverseProxy.Forwarder.ForwarderError.RequestBodyCanceled
        or Yarp.ReverseProxy.Forwarder.ForwarderError.ResponseBodyCanceled or Yarp.ReverseProxy.Forwarder.ForwarderError.UpgradeRequestCanceled
        or Yarp.ReverseProxy.Forwarder.ForwarderError.UpgradeResponseCanceled;
}
