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
                if (transport is null) throw new DialFailedException(failure!);
                // A raw-upgrade tunnel is the balancer's TLS stream itself, and SocketsHttpHandler takes an SslStream from the
                // connect callback as TLS already done — it would send the request in the clear to the balancer's tunnel.
                return transport is System.Net.Security.SslStream ? new OpaqueStream(transport) : transport;
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = options.ClientCertificate is { } c ? SslStreamCertificateContext.Create(c, null) : null,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => DialTrust.CheckInner(options.HostCa, certificate, chain, errors),
            },
        });
    }

    /// <summary>GETs <paramref name="path"/> of the web side (e.g. <c>v1/nodes</c>) as this user: its body, or the sentence why not.</summary>
    public static async Task<(string? Text, string? Error)> GetTextAsync(ProxyDialer dialer, string path, CancellationToken cancellationToken)
    {
        using var http = Create(dialer);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress, path));
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.IsSuccessStatusCode ? (body, null) : (null, $"{(int)response.StatusCode} {body.Trim()}");
        }
        catch (HttpRequestException e)
        {
            return (null, DialFailure(e) ?? e.Message);
        }
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

/// <summary>A stream that only passes bytes through, so that nothing can tell what it wraps.</summary>
internal sealed class OpaqueStream(Stream inner) : Stream
{
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
