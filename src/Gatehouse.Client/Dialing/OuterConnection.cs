using System.Net.Security;
using System.Net.Sockets;

namespace Gatehouse.Client.Dialing;

/// <summary>TCP to the proxy's address, and the outer TLS of a tunnel or of /v1/ping: SNI = the proxy's host name, ALPN
/// http/1.1 only (an upgrade is an HTTP/1.1 thing), <see cref="DialerOptions.Outer"/>'s certificate offered if the balancer asks.</summary>
internal static class OuterConnection
{
    public static async Task<NetworkStream> ConnectTcpAsync(ProxyAddress proxy, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(proxy.Host, proxy.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static async Task<SslStream> ConnectTlsAsync(DialerOptions options, CancellationToken cancellationToken)
    {
        var tcp = await ConnectTcpAsync(options.Proxy, cancellationToken);
        var tls = new SslStream(tcp, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(OuterOptions(options), cancellationToken);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    public static SslClientAuthenticationOptions OuterOptions(DialerOptions options) => options.Outer.ApplyTo(new()
    {
        TargetHost = options.Proxy.Host,
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, chain, errors) => DialTrust.CheckOuter(options, certificate, chain, errors),
    });

    /// <summary>A sentence for an exception thrown on the outer TLS (or the HTTP over it): the missing client certificate
    /// when a front asked for one and there was none (issue 7), else <see cref="Explain"/>.</summary>
    public static string ExplainOuter(Exception e, DialerOptions options, string what) =>
        Telling(e) is not (SocketException or OperationCanceledException) // a TLS alert or a connection closed after the handshake
            && options.Outer.MissingCertificateExplanation(options.Proxy.ToString()) is { } missing
            ? missing
            : Explain(e, options.Proxy, what);

    /// <summary>A sentence for an exception thrown while reaching the proxy or a balancer.</summary>
    public static string Explain(Exception e, ProxyAddress proxy, string what) => Telling(e) switch
    {
        System.Security.Authentication.AuthenticationException when what.Contains("inner", StringComparison.Ordinal) =>
            $"the {what} TLS handshake with {proxy} failed ({e.Message.TrimEnd('.')}): the certificate behind it is not from the cluster's host CA " +
            "or not for gatehouse.internal; log in again if the cluster was rebuilt.",
        System.Security.Authentication.AuthenticationException =>
            $"the {what} TLS handshake with {proxy} failed ({e.Message.TrimEnd('.')}): its certificate is trusted neither by this machine nor by " +
            "the cluster's host CA; pass --ca FILE, or --insecure for a lab balancer.",
        SocketException s => $"cannot reach {proxy}: {s.Message}",
        OperationCanceledException => $"{proxy} did not answer in time ({what})",
        _ => $"{what} connection to {proxy} failed: {e.GetBaseException().Message}",
    };

    /// <summary>The exception in a wrapped chain (WebSocketException → HttpRequestException → …) that says what happened.</summary>
    private static Exception Telling(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
            if (current is System.Security.Authentication.AuthenticationException or SocketException or OperationCanceledException) return current;
        return e;
    }
}
