using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.LoadGen;

/// <summary>
/// The client half of a direct Gatehouse connection (ARCHITECTURE §3), spoken here from the wire description rather
/// than through Gatehouse.Client: TLS with ALPN gatehouse-tcp and the client certificate, then the dial frame
/// <c>{"target":APP}</c> and the proxy's one-frame answer. The proxy answers after it has judged the certificate,
/// checked the role, written the audit event and connected to the app.
/// </summary>
internal static class GatehouseDial
{
    public const string Alpn = "gatehouse-tcp";

    public static async Task<SslStream> OpenAsync(int port, SslStreamCertificateContext certificate, byte[] dialFrame)
    {
        var tls = await ConnectTlsAsync(port, BenchTls.ClientOptions("gatehouse.internal", Alpn, certificate));
        try
        {
            await tls.WriteAsync(dialFrame);
            await tls.FlushAsync();
            var header = new byte[4];
            await tls.ReadExactlyAsync(header);
            var answer = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
            await tls.ReadExactlyAsync(answer);
            var text = Encoding.UTF8.GetString(answer);
            if (!text.Contains("\"ok\":true", StringComparison.Ordinal)) throw new InvalidDataException($"the proxy refused the dial: {text}");
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>A 4-byte big-endian length and UTF-8 JSON naming the target (names here are the script's own, no escaping needed).</summary>
    public static byte[] Frame(string target)
    {
        var json = Encoding.UTF8.GetBytes($"{{\"target\":\"{target}\"}}");
        var frame = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, json.Length);
        json.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>TCP to 127.0.0.1:<paramref name="port"/>, no Nagle; the socket is closed if the connect fails.</summary>
    public static async Task<NetworkStream> ConnectTcpAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>TCP to 127.0.0.1:<paramref name="port"/> and a TLS handshake; the socket is closed if either fails.</summary>
    public static async Task<SslStream> ConnectTlsAsync(int port, SslClientAuthenticationOptions options)
    {
        var tls = new SslStream(await ConnectTcpAsync(port), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(options);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }
}
