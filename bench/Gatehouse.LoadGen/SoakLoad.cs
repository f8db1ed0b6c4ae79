using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>
/// The soak's load (bench/soak.sh): <c>--tunnels</c> connections kept open at once to a local <c>gatehouse proxy app</c>
/// port that tunnels through a layer-7 front, each living a random 5–55 s (an echo every few seconds, every byte
/// checked) and then replaced by a new one — so tunnels churn the whole time — and HTTP GETs of <c>--url</c> at
/// <c>--rate</c> per second through the front with a client certificate. Every 10 s it prints one line of counters;
/// the last line is the total. Any error counts; nothing is retried.
/// </summary>
internal static class SoakLoad
{
    internal sealed record Options(int TunnelPort, int Tunnels, Uri Url, string CertFile, string KeyFile, int Rate, int Seconds)
    {
        public static Options From(CommandLine line) => new(line.Int("tunnel-port"), line.Int("tunnels", 1000),
            new Uri(line.RequiredText("url")), line.RequiredText("cert"), line.RequiredText("key"), line.Int("rate", 20), line.Int("seconds", 1800));
    }

    private static long _open, _opened, _tunnelErrors, _echoes, _httpOk, _httpErrors;
    private static string? _firstError;

    public static async Task<int> RunAsync(Options options)
    {
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(options.Seconds);
        var certificate = BenchTls.LoadClientCertificate(options.CertFile, options.KeyFile);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false, UseCookies = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 4,
            SslOptions = BenchTls.ClientOptions(options.Url.Host, alpn: null, certificate),
        }) { Timeout = TimeSpan.FromSeconds(30) };

        // The tunnels ramp up over the first 20 s, so that the first thousand set-ups do not all land in one second.
        var tunnels = Enumerable.Range(0, options.Tunnels).Select(i => TunnelSlotAsync(options.TunnelPort, i, TimeSpan.FromMilliseconds(20_000.0 * i / options.Tunnels), end));
        var http = HttpLoopAsync(client, options.Url, options.Rate, end);
        var report = ReportAsync(end);
        await Task.WhenAll([.. tunnels, http]);
        await report;
        Console.Out.WriteLine("total " + Counters());
        if (_firstError is not null) Console.Error.WriteLine($"soak: first error: {_firstError}");
        return _tunnelErrors + _httpErrors == 0 ? 0 : 1;
    }

    private static string Counters() => string.Create(CultureInfo.InvariantCulture,
        $"tunnels_open={Interlocked.Read(ref _open)} tunnels_opened={Interlocked.Read(ref _opened)} tunnel_errors={Interlocked.Read(ref _tunnelErrors)} " +
        $"echoes={Interlocked.Read(ref _echoes)} http_ok={Interlocked.Read(ref _httpOk)} http_errors={Interlocked.Read(ref _httpErrors)}");

    private static async Task ReportAsync(DateTime end)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < end && await timer.WaitForNextTickAsync())
            Console.Out.WriteLine(Counters());
    }

    private static void Failed(string what, Exception e)
    {
        Interlocked.CompareExchange(ref _firstError, $"{what}: {e.GetType().Name}: {e.Message}", null);
    }

    private static async Task TunnelSlotAsync(int port, int slot, TimeSpan delay, DateTime end)
    {
        await Task.Delay(delay);
        var random = new Random(slot);
        var buffer = new byte[64];
        while (DateTime.UtcNow < end)
        {
            var lifetime = TimeSpan.FromSeconds(5 + random.Next(50));
            var until = DateTime.UtcNow + lifetime < end ? DateTime.UtcNow + lifetime : end;
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                using var deadline = new CancellationTokenSource(lifetime + TimeSpan.FromSeconds(60));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), deadline.Token);
                Interlocked.Increment(ref _opened);
                Interlocked.Increment(ref _open);
                try
                {
                    // 'E' turns the sink into an echo for the rest of the connection; then a numbered line every few seconds.
                    var first = true;
                    for (var n = 0; first || DateTime.UtcNow < until; n++)
                    {
                        var line = System.Text.Encoding.ASCII.GetBytes((first ? "E" : "") + $"{slot}:{n}\n");
                        first = false;
                        await socket.SendAsync(line, deadline.Token);
                        for (var got = 0; got < line.Length;)
                        {
                            var read = await socket.ReceiveAsync(buffer.AsMemory(got, line.Length - got), deadline.Token);
                            if (read == 0) throw new IOException($"the tunnel closed after {got} of {line.Length} echoed bytes");
                            got += read;
                        }
                        if (!buffer.AsSpan(0, line.Length).SequenceEqual(line)) throw new IOException("the echo differs from what was sent");
                        Interlocked.Increment(ref _echoes);
                        var pause = until - DateTime.UtcNow;
                        if (pause > TimeSpan.Zero) await Task.Delay(pause < TimeSpan.FromSeconds(5) ? pause : TimeSpan.FromSeconds(5), deadline.Token);
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                Interlocked.Increment(ref _tunnelErrors);
                Failed($"tunnel slot {slot}", e);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static async Task HttpLoopAsync(HttpClient client, Uri url, int rate, DateTime end)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / rate));
        var inFlight = new List<Task>();
        while (DateTime.UtcNow < end && await timer.WaitForNextTickAsync())
        {
            inFlight.RemoveAll(t => t.IsCompleted);
            inFlight.Add(GetAsync(client, url));
        }
        await Task.WhenAll(inFlight);
    }

    private static async Task GetAsync(HttpClient client, Uri url)
    {
        try
        {
            using var response = await client.GetAsync(url);
            await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.OK) throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
            Interlocked.Increment(ref _httpOk);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            Interlocked.Increment(ref _httpErrors);
            Failed("http", e);
        }
    }
}
