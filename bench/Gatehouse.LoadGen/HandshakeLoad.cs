using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>
/// New mutual-TLS connections per second: <c>--concurrency</c> loops, each connecting, handshaking with the client
/// certificate, proving the path to the app is open, and closing, again and again for <c>--seconds</c> (after a
/// short warm-up that is not counted).
/// <list type="bullet">
/// <item><c>--mode gatehouse</c>: ALPN gatehouse-tcp, then the dial frame <c>{"target":APP}</c> and the proxy's
/// answer, which it sends after it has judged the certificate, checked the role, audited and connected to the app.</item>
/// <item><c>--mode tls</c> (nginx <c>stream</c> with <c>ssl_verify_client on</c>): no ALPN, then one byte that the
/// sink echoes through nginx's connection to it.</item>
/// </list>
/// </summary>
internal static class HandshakeLoad
{
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(2);

    internal sealed record Options(int Port, string Mode, string CertFile, string KeyFile, int Seconds, int Concurrency, string Target)
    {
        public static Options From(CommandLine line)
        {
            var mode = line.RequiredText("mode");
            if (mode is not ("gatehouse" or "tls")) throw new CommandLineException($"--mode: '{mode}' is not gatehouse or tls");
            return new Options(line.Int("port"), mode, line.RequiredText("cert"), line.RequiredText("key"), line.Int("seconds", 10),
                line.Int("concurrency", 8), line.Text("target") ?? "sink");
        }
    }

    public static async Task<int> RunAsync(Options options)
    {
        var certificate = BenchTls.LoadClientCertificate(options.CertFile, options.KeyFile);
        var gatehouse = options.Mode == "gatehouse";
        var dialFrame = GatehouseDial.Frame(options.Target);
        var counting = DateTime.UtcNow + Warmup;
        var end = counting + TimeSpan.FromSeconds(options.Seconds);
        long done = 0, all = 0, failed = 0;
        string? firstError = null;

        async Task LoopAsync()
        {
            while (DateTime.UtcNow < end)
            {
                try
                {
                    await (gatehouse ? DialOnceAsync(options.Port, certificate, dialFrame) : EchoOnceAsync(options.Port, certificate));
                    Interlocked.Increment(ref all);
                    if (DateTime.UtcNow >= counting) Interlocked.Increment(ref done);
                }
                catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException
                                          or InvalidDataException)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                }
            }
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(LoopAsync)));
        clock.Stop();
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"connections={done} all_connections={all} seconds={options.Seconds} per_s={done / (double)options.Seconds:F1} failed={failed} concurrency={options.Concurrency}"));
        if (firstError is not null) Console.Error.WriteLine($"handshakes: first failure: {firstError}");
        return failed > done / 100 ? 1 : 0; // more than 1% failures: the number would not mean what it says
    }

    private static async Task DialOnceAsync(int port, SslStreamCertificateContext certificate, byte[] dialFrame)
    {
        await using var tls = await GatehouseDial.OpenAsync(port, certificate, dialFrame);
    }

    private static async Task EchoOnceAsync(int port, SslStreamCertificateContext certificate)
    {
        await using var tls = await GatehouseDial.ConnectTlsAsync(port, BenchTls.ClientOptions("nginx.bench", alpn: null, certificate));
        var one = new[] { SinkProtocol.Echo };
        await tls.WriteAsync(one);
        await tls.FlushAsync();
        if (await tls.ReadAsync(one) != 1) throw new InvalidDataException("nginx closed before the echo (did it refuse the client certificate?)");
    }
}
