using System.Globalization;
using System.Net;
using System.Net.Http;

namespace Gatehouse.LoadGen;

/// <summary>
/// HTTP requests per second over kept-alive HTTPS connections with a client certificate: <c>--concurrency</c> loops,
/// each sending GET <c>--url</c> and reading the whole answer, again and again for <c>--seconds</c> (after a short
/// warm-up that is not counted). At most one connection per loop, kept open, so after the first request of each loop
/// no handshake is in the numbers: this measures what the proxies do per request, not per connection.
/// An answer other than 200 counts as a failure (a refused certificate must not look like a fast request).
/// </summary>
internal static class HttpRequestLoad
{
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(2);

    internal sealed record Options(Uri Url, string CertFile, string KeyFile, int Seconds, int Concurrency)
    {
        public static Options From(CommandLine line)
        {
            var text = line.RequiredText("url");
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
                throw new CommandLineException($"--url: '{text}' is not an https URL");
            return new Options(url, line.RequiredText("cert"), line.RequiredText("key"), line.Int("seconds", 10), line.Int("concurrency", 8));
        }
    }

    public static async Task<int> RunAsync(Options options)
    {
        var certificate = BenchTls.LoadClientCertificate(options.CertFile, options.KeyFile);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            MaxConnectionsPerServer = options.Concurrency,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            // HttpClient sets ALPN (http/1.1) itself; the rest as every other measurement (BenchTls).
            SslOptions = BenchTls.ClientOptions(options.Url.Host, alpn: null, certificate),
        })
        {
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var counting = DateTime.UtcNow + Warmup;
        var end = counting + TimeSpan.FromSeconds(options.Seconds);
        long done = 0, all = 0, failed = 0, bodyBytes = 0;
        string? firstError = null;

        async Task LoopAsync()
        {
            while (DateTime.UtcNow < end)
            {
                try
                {
                    using var response = await client.GetAsync(options.Url, HttpCompletionOption.ResponseContentRead);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                        throw new InvalidDataException($"HTTP {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300))}");
                    Interlocked.Increment(ref all);
                    if (DateTime.UtcNow >= counting)
                    {
                        Interlocked.Increment(ref done);
                        Interlocked.Add(ref bodyBytes, body.Length);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(LoopAsync)));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"requests={done} all_requests={all} seconds={options.Seconds} per_s={done / (double)options.Seconds:F1} failed={failed} concurrency={options.Concurrency} body_bytes={(done > 0 ? bodyBytes / done : 0)}"));
        if (firstError is not null) Console.Error.WriteLine($"requests: first failure: {firstError}");
        return failed > done / 100 ? 1 : 0; // more than 1% failures: the number would not mean what it says
    }
}
