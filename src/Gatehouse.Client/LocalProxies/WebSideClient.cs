using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Client.Dialing;
using Gatehouse.Routing;

namespace Gatehouse.Client.LocalProxies;

/// <summary>
/// An HTTP client for the proxy's web side (its HTTP apps and Kubernetes clusters) that connects the way the dialer
/// does — straight to the TLS port, or through a tunnel when a balancer is in front — and then runs HTTPS with the
/// user's certificate inside, trusting only the host CA under the name <see cref="ProxyProtocol.InternalHostName"/>.
/// Through a balancer without mTLS this is how the user's certificate still reaches Gatehouse.
/// </summary>
internal static class WebSideClient
{
    /// <summary>The proxy's web side as the inner TLS sees it; requests go to paths under it (/kube/NAME/, /apps/NAME/).</summary>
    public static Uri BaseAddress { get; } = new($"https://{ProxyProtocol.InternalHostName}/");

    public static HttpMessageInvoker Create(ProxyDialer dialer)
    {
        // HTTP inside a raw-upgrade tunnel fails today (the proxy closes the inner connection before answering), so the web
        // side always tunnels over a WebSocket, whatever GATEHOUSE_TUNNEL_MODE says.
        if (dialer.Options.TunnelKind == TunnelKind.Raw) dialer = new ProxyDialer(dialer.Options with { TunnelKind = TunnelKind.WebSocket });
        var options = dialer.Options;
        return new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
            ConnectTimeout = options.EffectiveConnectTimeout,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var (decision, error) = await dialer.DecideAsync(cancellationToken);
                if (decision is null) throw new DialFailedException(error!);
                // ping: a WebSocket tunnel gets keep-alive pings, so idle watches survive balancers' idle timeouts.
                var (transport, _, failure) = await dialer.ConnectAsync(decision.Tunnel, ping: true, cancellationToken);
                return transport ?? throw new DialFailedException(failure!);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = options.ClientCertificate is { } c ? SslStreamCertificateContext.Create(c, null) : null,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => DialTrust.CheckInner(options.HostCa, certificate, chain, errors),
            },
        });
    }

    /// <summary>The dialer's sentence when a request failed because the proxy could not be reached, else null.</summary>
    public static string? DialFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is DialFailedException dial) return dial.Message;
        return null;
    }
}

/// <summary>The proxy could not be reached (the message is the dialer's sentence for the user).</summary>
internal sealed class DialFailedException(string message) : IOException(message);
