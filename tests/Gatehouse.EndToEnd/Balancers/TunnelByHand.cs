using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Routing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// Tunnels built by hand, step by step, as someone trying to get around the outer/inner binding would: a WebSocket
/// through a balancer with one certificate, TLS inside with another (or none), and inside that HTTP/1.1 requests or
/// another upgrade to /v1/tunnel — raw or WebSocket — written byte by byte.
/// </summary>
internal static class TunnelByHand
{
    /// <summary>A WebSocket (gatehouse-tls) to <c>wss://127.0.0.1:PORT/v1/tunnel</c>, offering <paramref name="outer"/> when
    /// the balancer asks. The caller disposes the stream.</summary>
    public static async Task<Stream> WebSocketAsync(int port, string balancerCa, IssuedCertificate? outer, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ProxyProtocol.WebSocketProtocol);
        if (outer is not null) socket.Options.ClientCertificates = [Load(outer)];
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => ChainsTo(certificate, balancerCa);
        try
        {
            await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{port}{ProxyProtocol.TunnelPath}"), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: true);
    }

    /// <summary>TLS to gatehouse.internal over <paramref name="transport"/> (which it then owns), checked against the host
    /// CA, offering <paramref name="alpn"/> and presenting <paramref name="certificate"/> if given.</summary>
    public static async Task<SslStream> TlsAsync(Stream transport, string hostCa, IssuedCertificate? certificate, string alpn,
        CancellationToken cancellationToken)
    {
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = ProxyProtocol.InternalHostName,
                ApplicationProtocols = [new SslApplicationProtocol(alpn)],
                ClientCertificates = certificate is null ? null : [Load(certificate)],
                RemoteCertificateValidationCallback = (_, presented, _, _) => ChainsTo(presented, hostCa),
            }, cancellationToken);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>An HTTP/1.1 answer read by hand: status, headers, and the body when it is not a switch of protocols.</summary>
    internal sealed record Answer(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

    /// <summary>GET <paramref name="path"/> over <paramref name="http"/> (one request, Connection: close) with extra header
    /// lines; reads the whole answer.</summary>
    public static async Task<Answer> GetAsync(Stream http, string path, IEnumerable<string> headers, CancellationToken cancellationToken)
    {
        await WriteAsync(http, $"GET {path} HTTP/1.1\r\nHost: {ProxyProtocol.InternalHostName}\r\nConnection: close\r\n" +
                               string.Concat(headers.Select(h => h + "\r\n")) + "\r\n", cancellationToken);
        return await ReadAnswerAsync(http, cancellationToken);
    }

    /// <summary>Asks for a tunnel inside <paramref name="http"/>: <c>Upgrade: gatehouse-tls</c> (raw), or a WebSocket with
    /// sub-protocol gatehouse-tls. On 101 the tunnel comes back (for a WebSocket, as a stream over its binary messages).</summary>
    public static async Task<(Answer Answer, Stream? Tunnel)> UpgradeAsync(Stream http, TunnelKind kind, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var upgrade = kind == TunnelKind.Raw
            ? $"Connection: Upgrade\r\nUpgrade: {ProxyProtocol.RawUpgrade}\r\n"
            : $"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n" +
              $"Sec-WebSocket-Protocol: {ProxyProtocol.WebSocketProtocol}\r\n";
        await WriteAsync(http, $"GET {ProxyProtocol.TunnelPath} HTTP/1.1\r\nHost: {ProxyProtocol.InternalHostName}\r\n{upgrade}\r\n", cancellationToken);
        var answer = await ReadAnswerAsync(http, cancellationToken);
        if (answer.Status != 101) return (answer, null);
        if (kind == TunnelKind.Raw) return (answer, http);
        var socket = WebSocket.CreateFromStream(http, new WebSocketCreationOptions { IsServer = false, SubProtocol = ProxyProtocol.WebSocketProtocol });
        return (answer, WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: true));
    }

    private static async Task WriteAsync(Stream stream, string text, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads byte by byte up to the blank line (so nothing after a 101 is taken from the tunnel), then the body:
    /// Content-Length bytes or chunks.</summary>
    private static async Task<Answer> ReadAnswerAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0) throw new IOException($"the connection closed inside the answer's head: {head}");
            head.Append((char)one[0]);
            if (head.Length > 16 * 1024) throw new IOException("the answer's head is larger than 16 KiB");
        }
        var lines = head.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (status == 101) return new Answer(status, headers, "");
        if (headers.TryGetValue("Content-Length", out var length))
        {
            var bytes = new byte[int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)];
            await stream.ReadExactlyAsync(bytes, cancellationToken);
            return new Answer(status, headers, Encoding.UTF8.GetString(bytes));
        }
        // Chunked: up to the last (empty) chunk — not to the end of the stream, which a WebSocket tunnel under TLS reports
        // as an error rather than as 0 once the peer has closed it.
        var chunked = new StringBuilder();
        while (!chunked.ToString().EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal) && !chunked.ToString().StartsWith("0\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0) break;
            chunked.Append((char)one[0]);
        }
        // One char per byte so far (chunk sizes count bytes); the body itself is UTF-8.
        var data = Gatehouse.Client.Dialing.UpgradeResponseReader.Dechunk(chunked.ToString());
        return new Answer(status, headers, Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(data)));
    }

    public static X509Certificate2 Load(IssuedCertificate certificate)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificate.Certificate, certificate.Key);
        // Through PKCS#12 so the key is usable for a TLS client handshake on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public static bool ChainsTo(X509Certificate? certificate, string caFile)
    {
        if (certificate is null) return false;
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.ImportFromPemFile(caFile);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(leaf);
    }
}
