using System.Net;
using System.Text;
using Gatehouse.Routing;
using Gatehouse.Testing.Fuzzing;
using Gatehouse.Tests.Routing;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Fuzzing;

/// <summary>
/// The one port's own framing, fuzzed from real bytes: ClientHellos captured from openssl s_client and .NET's SslStream,
/// dial frames and answers as the client and proxy write them, ping-framed streams, X-Forwarded-For as balancers write it.
/// </summary>
public sealed class RoutingFuzzTests(CapturedHellos captured, ITestOutputHelper output) : IClassFixture<CapturedHellos>
{
    [Fact]
    public void Client_hello()
    {
        byte[][] seeds =
        [
            captured.OpenSsl, captured.DotNet,
            ClientHellos.ClientHello(ClientHellos.Sni("a.example"), ClientHellos.Alpn("gatehouse-tcp-ping", "h2")),
            ClientHellos.SplitIntoRecords(captured.OpenSsl[5..], 7, 100),
        ];
        var target = new FuzzTarget("client-hello", seeds) { Tokens = Mutator.Tokens("\x16\x03\x01", "\x00\x10", "\x00\x00", "gatehouse-ssh", "h2") };
        Fuzz.Run(target, (input, random) =>
        {
            var segment = random.Next(3) switch { 0 => 0, 1 => 1, _ => random.Next(2, 64) };
            var segmented = ClientHellos.Segmented(input, segment);
            var whole = ClientHelloParser.TryParse(segmented);
            if (whole.Status == ClientHelloStatus.Complete && whole.ConsumedLength > input.Length)
                throw new InvalidOperationException($"consumed {whole.ConsumedLength} of {input.Length} bytes");
            // As the reader parses it: the same buffer growing, the scan state kept between reads (slices allocate nothing,
            // so what is counted is the parser's own).
            var scan = default(ClientHelloScan);
            var incremental = ClientHelloParse.NeedMoreData;
            for (var have = 0; have <= input.Length && !incremental.IsFinal; have += random.Next(1, 200))
                incremental = ClientHelloParser.TryParse(segmented.Slice(0, have), ClientHelloParser.DefaultMaxBytes, ref scan);
            if (!incremental.IsFinal) incremental = ClientHelloParser.TryParse(segmented, ClientHelloParser.DefaultMaxBytes, ref scan);
            if (incremental.Status != whole.Status || incremental.ServerName != whole.ServerName || !incremental.Alpn.SequenceEqual(whole.Alpn))
                throw new InvalidOperationException($"read in pieces: {incremental.Status} ({incremental.Error}); whole: {whole.Status} ({whole.Error})");
            return whole.Status.ToString();
        }, output.WriteLine);
    }

    [Fact]
    public void Dial_frames()
    {
        var seeds = new List<byte[]>
        {
            Frame(s => DialFrames.WriteAsync(s, new DialRequest("node1", "root"), default)),
            Frame(s => DialFrames.WriteAsync(s, new DialRequest("db", DbUser: "app", DbName: "orders"), default)),
            Frame(s => DialFrames.WriteAsync(s, new DialRequest("tunnel", Probe: true), default)),
            Frame(s => DialFrames.WriteAsync(s, DialAnswer.Accepted, default)),
            Frame(s => DialFrames.WriteAsync(s, DialAnswer.Refuse(DialCodes.Denied, "access denied: no role allows node1"), default)),
        };
        var target = new FuzzTarget("dial-frames", seeds) { Tokens = Mutator.Tokens("\"target\"", "\"ok\"", "null", "true", "{", "}", "[", "\\u0000", "\"") };
        Fuzz.Run(target, (input, random) =>
        {
            var (request, requestError) = DialFrames.ReadRequestAsync(new ChunkedReadStream(input, random), default).AsTask().GetAwaiter().GetResult();
            var (answer, answerError) = DialFrames.ReadAnswerAsync(new ChunkedReadStream(input, random), default).AsTask().GetAwaiter().GetResult();
            if ((request is null) == (requestError is null) || (answer is null) == (answerError is null))
                throw new InvalidOperationException("a frame must give a value or an error, not both or neither");
            return $"request {(request is null ? "refused" : "read")}, answer {(answer is null ? "refused" : "read")}";
        }, output.WriteLine);
    }

    [Fact]
    public void Ping_framing()
    {
        byte[][] seeds =
        [
            Frame(s => new PingFramedStream(s, null).WriteAsync("SSH-2.0-OpenSSH_9.2p1\r\n"u8.ToArray())),
            [0, 0, 0, 0, .. Frame(s => new PingFramedStream(s, null).WriteAsync(new byte[300])), 0, 0, 0, 0],
        ];
        var target = new FuzzTarget("ping-framing", seeds);
        Fuzz.Run(target, (input, random) =>
        {
            using var framed = new PingFramedStream(new ChunkedReadStream(input, random), null);
            var buffer = new byte[random.Next(1, 512)];
            long total = 0;
            try
            {
                for (int read; (read = framed.ReadAsync(buffer).AsTask().GetAwaiter().GetResult()) > 0;) total += read;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                return e.GetType().Name;
            }
            if (total > input.Length) throw new InvalidOperationException($"read {total} payload bytes out of {input.Length}");
            return "end of stream";
        }, output.WriteLine);
    }

    [Fact]
    public void X_forwarded_for()
    {
        string[] seeds =
        [
            "203.0.113.7", "203.0.113.7, 10.0.0.2", "198.51.100.1, 203.0.113.7\n10.1.2.3", "[2001:db8::7]:51234, 10.0.0.2",
            "2001:db8::7, ::ffff:10.0.0.9", "203.0.113.7:443", "unknown, 10.0.0.2", " 127.0.0.1 ,127.0.0.2",
        ];
        var target = new FuzzTarget("x-forwarded-for", [.. seeds.Select(Encoding.Latin1.GetBytes)])
        {
            Tokens = Mutator.Tokens(",", ", ", "[", "]", ":", "::ffff:", "%eth0", "10.0.0.1", "\n"),
            ShortInputs = 20000,
        };
        Fuzz.Run(target, (input, _) =>
        {
            var lines = Encoding.Latin1.GetString(input).Split('\n');
            var trusted = (IPAddress a) => IPAddress.IsLoopback(a) || a.ToString().StartsWith("10.", StringComparison.Ordinal);
            var found = ClientAddress.Walk(IPAddress.Loopback, lines, trusted, out var ignored);
            var claimed = found.Claimed().Count();
            if (ignored) throw new InvalidOperationException("a trusted peer's X-Forwarded-For was ignored");
            return found.Client.Equals(IPAddress.Loopback) ? "the peer" : claimed > 0 ? "a claimed address, more claimed before it" : "a claimed address";
        }, output.WriteLine);
    }

    private static byte[] Frame(Func<Stream, ValueTask> write)
    {
        using var stream = new MemoryStream();
        write(stream).AsTask().GetAwaiter().GetResult();
        return stream.ToArray();
    }
}
