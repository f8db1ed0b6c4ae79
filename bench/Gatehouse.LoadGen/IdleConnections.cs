using System.Globalization;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>
/// Memory per idle connection: opens <c>--count</c> connections (<c>--parallel</c> at a time), proves each reaches the
/// sink (one echoed byte), then holds them all open and idle, prints <c>open=N</c>, and keeps them. A line <c>check</c>
/// on standard input sends one more byte through every connection and prints <c>alive=N failed=M</c> (do they all still
/// work after the idle time?); the end of standard input closes them all (the script reads the processes' memory and
/// CPU in between). Either plain TCP to a port (a local <c>gatehouse proxy app</c>, which dials the proxy for each,
/// directly or through a tunnel) or, with <c>--dial</c>, gatehouse-tcp straight to the proxy.
/// </summary>
internal static class IdleConnections
{
    public static async Task<int> RunAsync(CommandLine line)
    {
        var port = line.Int("port");
        var count = line.Int("count", 1000);
        var parallel = Math.Max(1, line.Int("parallel", 1));
        var dial = line.Text("dial");
        var certificate = dial is null ? null : BenchTls.LoadClientCertificate(line.RequiredText("cert"), line.RequiredText("key"));
        var frame = dial is null ? null : GatehouseDial.Frame(dial);
        var open = new Stream?[count];
        var next = -1;
        var opened = 0;
        string? failure = null;
        try
        {
            // A few at a time: the point is many open at once, not how fast they open.
            async Task OpenSome()
            {
                var one = new byte[1];
                int i;
                while (Volatile.Read(ref failure) is null && (i = Interlocked.Increment(ref next)) < count)
                {
                    try
                    {
                        Stream stream = certificate is not null ? await GatehouseDial.OpenAsync(port, certificate, frame!) : await GatehouseDial.ConnectTcpAsync(port);
                        open[i] = stream;
                        if (!await EchoAsync(stream, one))
                        {
                            Interlocked.CompareExchange(ref failure, $"connection {i} got no echo; is the port forwarding to the sink?", null);
                            return;
                        }
                    }
                    catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or InvalidDataException)
                    {
                        Interlocked.CompareExchange(ref failure, $"connection {i}: {e.Message}", null);
                        return;
                    }
                    var done = Interlocked.Increment(ref opened);
                    if (done % 1000 == 0) Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"idle: {done} open"));
                }
            }
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => OpenSome()));
            if (failure is not null)
            {
                Console.Error.WriteLine($"idle: after {opened} open connection(s): {failure}");
                return 1;
            }
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"open={opened}"));
            await Console.Out.FlushAsync();
            while (await Console.In.ReadLineAsync() is { } command)
            {
                if (command.Trim() != "check") continue;
                var (alive, failed) = await CheckAsync(open, parallel);
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alive={alive} failed={failed}"));
                await Console.Out.FlushAsync();
            }
            return 0;
        }
        finally
        {
            foreach (var stream in open)
            {
                if (stream is not null) await stream.DisposeAsync();
            }
        }
    }

    /// <summary>One echoed byte through every connection, <paramref name="parallel"/> at a time.</summary>
    private static async Task<(int Alive, int Failed)> CheckAsync(Stream?[] open, int parallel)
    {
        var next = -1;
        var alive = 0;
        async Task CheckSome()
        {
            var one = new byte[1];
            int i;
            while ((i = Interlocked.Increment(ref next)) < open.Length)
            {
                if (open[i] is not { } stream) continue;
                try
                {
                    if (await EchoAsync(stream, one).WaitAsync(TimeSpan.FromSeconds(60))) Interlocked.Increment(ref alive);
                }
                catch (Exception e) when (e is IOException or SocketException or TimeoutException or ObjectDisposedException)
                {
                    // counted as failed
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => CheckSome()));
        var held = open.Count(s => s is not null);
        return (alive, held - alive);
    }

    private static async Task<bool> EchoAsync(Stream stream, byte[] one)
    {
        one[0] = SinkProtocol.Echo;
        await stream.WriteAsync(one);
        await stream.FlushAsync();
        return await stream.ReadAsync(one) == 1 && one[0] == SinkProtocol.Echo;
    }
}
