using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Routing;

/// <summary>Builds ClientHellos byte by byte; each piece names the RFC structure it writes.</summary>
internal static class ClientHellos
{
    /// <summary>TLSPlaintext (RFC 8446 §5.1): type 22 = handshake, legacy_record_version 0x0301, uint16 length.</summary>
    public static byte[] Record(byte[] fragment, byte type = 22, byte major = 3, byte minor = 1) =>
        [type, major, minor, (byte)(fragment.Length >> 8), (byte)fragment.Length, .. fragment];

    /// <summary>Handshake (RFC 8446 §4): msg_type 1 = client_hello, uint24 length.</summary>
    public static byte[] Handshake(byte[] body, byte type = 1) =>
        [type, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, .. body];

    /// <summary>ClientHello (RFC 8446 §4.1.2) with the given extensions, or none at all (a TLS 1.0-era hello).</summary>
    public static byte[] Body(params byte[][] extensions)
    {
        byte[] fixedPart =
        [
            0x03, 0x03,                                   // legacy_version: TLS 1.2
            .. Enumerable.Repeat((byte)0xAA, 32),         // random
            0x20, .. Enumerable.Repeat((byte)0x55, 32),   // legacy_session_id<0..32>
            0x00, 0x04, 0x13, 0x01, 0x13, 0x02,           // cipher_suites<2..2^16-2>: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384
            0x01, 0x00,                                   // legacy_compression_methods<1..2^8-1>: null
        ];
        if (extensions.Length == 0) return fixedPart;
        var all = extensions.SelectMany(e => e).ToArray();
        return [.. fixedPart, (byte)(all.Length >> 8), (byte)all.Length, .. all]; // Extension extensions<8..2^16-1>
    }

    /// <summary>Extension: uint16 extension_type, opaque extension_data&lt;0..2^16-1&gt;.</summary>
    public static byte[] Extension(ushort type, byte[] data) =>
        [(byte)(type >> 8), (byte)type, (byte)(data.Length >> 8), (byte)data.Length, .. data];

    /// <summary>server_name (0), RFC 6066 §3: ServerName server_name_list; each name_type 0 = host_name, opaque HostName.</summary>
    public static byte[] Sni(params string[] hostNames)
    {
        var list = hostNames.SelectMany(n => (byte[])[0x00, (byte)(n.Length >> 8), (byte)n.Length, .. n.Select(c => (byte)c)]).ToArray();
        return Extension(0, [(byte)(list.Length >> 8), (byte)list.Length, .. list]);
    }

    /// <summary>application_layer_protocol_negotiation (16), RFC 7301 §3.1: ProtocolName protocol_name_list.</summary>
    public static byte[] Alpn(params string[] protocols)
    {
        var list = protocols.SelectMany(p => (byte[])[(byte)p.Length, .. p.Select(c => (byte)c)]).ToArray();
        return Extension(16, [(byte)(list.Length >> 8), (byte)list.Length, .. list]);
    }

    public static byte[] ClientHello(params byte[][] extensions) => Record(Handshake(Body(extensions)));

    /// <summary>The handshake message of <paramref name="hello"/> cut into records at the given offsets.</summary>
    public static byte[] SplitIntoRecords(byte[] handshake, params int[] cuts)
    {
        var result = new List<byte>();
        var start = 0;
        foreach (var cut in cuts.Append(handshake.Length))
        {
            result.AddRange(Record(handshake[start..cut]));
            start = cut;
        }
        return [.. result];
    }

    /// <summary><paramref name="data"/> as a sequence of separate arrays of <paramref name="size"/> bytes (0: one segment).</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, int size)
    {
        if (size <= 0 || data.Length == 0) return new ReadOnlySequence<byte>(data.ToArray());
        var first = new Segment(data.AsSpan(0, Math.Min(size, data.Length)).ToArray(), 0);
        var last = first;
        for (var offset = size; offset < data.Length; offset += size)
            last = last.Append(data.AsSpan(offset, Math.Min(size, data.Length - offset)).ToArray());
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>
    /// Accepts one connection on a loopback listener, records the first TLS record the client sends (its header says
    /// how long it is; openssl and .NET send the ClientHello in one record) and closes, which ends the client's try.
    /// </summary>
    public static async Task<byte[]> CaptureAsync(Func<int, Task> client)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var running = client(((IPEndPoint)listener.LocalEndpoint).Port);
        byte[] record;
        using (var socket = await listener.AcceptSocketAsync(deadline.Token))
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            var header = new byte[5];
            await stream.ReadExactlyAsync(header, deadline.Token);
            record = new byte[5 + (header[3] << 8 | header[4])];
            header.CopyTo(record, 0);
            await stream.ReadExactlyAsync(record.AsMemory(5), deadline.Token);
        }
        await running.WaitAsync(deadline.Token);
        return record;
    }

    public static Task<byte[]> FromOpenSslAsync(string serverName, string alpn) => CaptureAsync(async port =>
        // Exits non-zero once the listener hangs up; only the bytes it sent matter.
        await Peer.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", serverName, "-alpn", alpn],
            stdin: "", timeout: TimeSpan.FromSeconds(30)));

    public static Task<byte[]> FromSslStreamAsync(string serverName, params string[] alpn) => CaptureAsync(async port =>
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var ssl = new SslStream(tcp.GetStream());
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                ApplicationProtocols = [.. alpn.Select(p => new SslApplicationProtocol(p))],
            });
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            // The listener hung up after the ClientHello, as intended.
        }
    });
}

/// <summary>ClientHellos from the real openssl s_client and .NET SslStream, captured once for the test class.</summary>
public sealed class CapturedHellos : IAsyncLifetime
{
    public const string OpenSslName = "Gate.Example.com", DotNetName = "kube-gatehouse.example.org";
    public static readonly string[] OpenSslAlpn = ["gatehouse-ssh", "h2", "http/1.1"];
    public static readonly string[] DotNetAlpn = ["gatehouse-postgres-ping", "http/1.1", "h2"];

    public byte[] OpenSsl { get; private set; } = [];
    public byte[] DotNet { get; private set; } = [];

    public async Task InitializeAsync()
    {
        OpenSsl = await ClientHellos.FromOpenSslAsync(OpenSslName, string.Join(',', OpenSslAlpn));
        DotNet = await ClientHellos.FromSslStreamAsync(DotNetName, DotNetAlpn);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
