using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>
/// Connection set-up as a user feels it: N sequential connections to a local <c>gatehouse proxy app</c> port, each
/// timed from the TCP connect to the first byte the sink echoes back (so the proxy's whole dial — outer connection,
/// tunnel upgrade, inner TLS, dial frame, the proxy's connect to the app — lies inside). The first <c>--warmup</c>
/// connections are not counted (JIT, first-use costs).
/// </summary>
internal static class ConnectLatency
{
    public static async Task<int> RunAsync(int port, int count, int warmup)
    {
        var samples = new List<double>(count);
        var one = new byte[1];
        for (var i = 0; i < warmup + count; i++)
        {
            var clock = Stopwatch.StartNew();
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            one[0] = SinkProtocol.Echo;
            await socket.SendAsync(one);
            var read = await socket.ReceiveAsync(one);
            clock.Stop();
            if (read != 1 || one[0] != SinkProtocol.Echo)
            {
                Console.Error.WriteLine($"latency: connection {i} got no echo (read {read} byte(s)); is the proxy app port forwarding?");
                return 1;
            }
            if (i >= warmup) samples.Add(clock.Elapsed.TotalMilliseconds);
        }
        samples.Sort();
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"count={count} min_ms={samples[0]:F2} p10_ms={Percentile(samples, 0.10):F2} p50_ms={Percentile(samples, 0.50):F2} p99_ms={Percentile(samples, 0.99):F2} mean_ms={samples.Average():F2} max_ms={samples[^1]:F2}"));
        return 0;
    }

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
