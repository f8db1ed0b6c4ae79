using System.Net;
using System.Net.Security;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>
/// The connection settings every forwarded request goes out with, to an HTTP app or a Kubernetes API server: no proxy,
/// no redirects followed and no cookie jar (the user's client keeps its cookies and sees the redirects), bodies as they
/// are, and no trace context of our own (that is the client's business with the far side).
/// </summary>
internal static class ForwardingHandler
{
    public static SocketsHttpHandler Create(SslClientAuthenticationOptions? ssl = null) => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ActivityHeadersPropagator = null,
        SslOptions = ssl ?? new SslClientAuthenticationOptions(),
    };
}
