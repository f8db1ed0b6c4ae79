using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>
/// Memory per idle connection: opens <c>--count</c> connections, proves each reaches the sink (one echoed byte), then
/// holds them all open and idle, prints <c>open=N</c>, and keeps them until its standard input ends (the script reads
/// the processes' memory in between). Either plain TCP to a port (a local <c>gatehouse proxy app</c>, which dials the
/// proxy for each, directly or through a tunnel) or, with <c>--dial</c>, gatehouse-tcp straight to the proxy.
/// </summary>
internal static class IdleConnections
{
    public static async Task<int> RunAsync(CommandLine line)
    {
        var port = line.Int("port");
        var count = line.Int("count", 1000);
        var dial = line.Text("dial");
        var certificate = dial is null ? null : BenchTls.LoadClientCertificate(line.RequiredText("cert"), line.RequiredText("key"));
        var frame = dial is null ? null : GatehouseDial.Frame(dial);
        var open = new List<Stream>(count);
        var one = new byte[1];
        try
        {
            // A few at a time: the point is many open at once, not how fast they open.
            for (var i = 0; i < count; i++)
            {
                Stream stream;
                if (certificate is not null)
                {
                    stream = await GatehouseDial.OpenAsync(port, certificate, frame!);
                }
                else
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                    stream = new NetworkStream(socket, ownsSocket: true);
                }
                open.Add(stream);
                one[0] = SinkProtocol.Echo;
                await stream.WriteAsync(one);
                await stream.FlushAsync();
                if (await stream.ReadAsync(one) != 1 || one[0] != SinkProtocol.Echo)
                {
                    Console.Error.WriteLine($"idle: connection {i} got no echo; is the port forwarding to the sink?");
                    return 1;
                }
            }
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"open={open.Count}"));
            await Console.Out.FlushAsync();
            await Console.In.ReadToEndAsync();
            return 0;
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or InvalidDataException)
        {
            Console.Error.WriteLine($"idle: after {open.Count} open connection(s): {e.Message}");
            return 1;
        }
        finally
        {
            foreach (var stream in open) await stream.DisposeAsync();
        }
    }
}
