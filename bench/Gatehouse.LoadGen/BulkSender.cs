using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>
/// One connection, <c>--bytes</c> sent to the sink in 64 KiB writes, timed from the first byte written to the sink's
/// answer that it drained them all (so bytes still in buffers are not counted as delivered).
/// How the connection is made:
/// <list type="bullet">
/// <item>plain TCP to a local <c>gatehouse proxy app</c> port, which does the TLS (the default);</item>
/// <item><c>--tls-host SNI</c>: TLS to the port, nginx terminating it;</item>
/// <item><c>--dial APP --cert F --key F</c>: straight to the Gatehouse port, this process doing what <c>proxy app</c>
/// does (<see cref="GatehouseDial"/>), to tell the proxy's cost from the local proxy's.</item>
/// </list>
/// </summary>
internal static class BulkSender
{
    internal sealed record Options(int Port, long Bytes, string? TlsHost, string? DialTarget, string? CertFile, string? KeyFile)
    {
        public static Options From(CommandLine line)
        {
            var dial = line.Text("dial");
            return new Options(line.Int("port"), line.Long("bytes"), line.Text("tls-host"), dial,
                dial is null ? null : line.RequiredText("cert"), dial is null ? null : line.RequiredText("key"));
        }
    }

    public static async Task<int> RunAsync(Options options)
    {
        await using var stream = await ConnectAsync(options);
        var buffer = new byte[SinkProtocol.BufferSize];
        Random.Shared.NextBytes(buffer); // TLS encrypts whatever it is given; random keeps nothing compressible anywhere
        var header = new byte[9];
        header[0] = SinkProtocol.Bulk;
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(1), options.Bytes);

        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(header);
        for (var left = options.Bytes; left > 0; left -= Math.Min(left, buffer.Length))
            await stream.WriteAsync(buffer.AsMemory(0, (int)Math.Min(left, buffer.Length)));
        await stream.FlushAsync();
        var answer = new byte[1];
        var read = await stream.ReadAsync(answer);
        clock.Stop();
        if (read != 1 || answer[0] != SinkProtocol.Done)
        {
            Console.Error.WriteLine($"bulk: the sink did not confirm {options.Bytes} bytes (read {read} byte(s)); the path dropped data");
            return 1;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bytes={options.Bytes} seconds={seconds:F3} mb_per_s={options.Bytes / 1e6 / seconds:F1}"));
        return 0;
    }

    private static async Task<Stream> ConnectAsync(Options options)
    {
        if (options.DialTarget is { } target)
            return await GatehouseDial.OpenAsync(options.Port, BenchTls.LoadClientCertificate(options.CertFile!, options.KeyFile!), GatehouseDial.Frame(target));
        if (options.TlsHost is { } host)
            return await GatehouseDial.ConnectTlsAsync(options.Port, BenchTls.ClientOptions(host, alpn: null, clientCertificate: null));
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, options.Port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new NetworkStream(socket, ownsSocket: true);
    }
}
