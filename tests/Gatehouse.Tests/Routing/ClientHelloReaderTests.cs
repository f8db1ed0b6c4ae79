using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Routing;
using static Gatehouse.Tests.Routing.ClientHellos;

namespace Gatehouse.Tests.Routing;

public sealed class ClientHelloReaderTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private static async Task<(Socket Client, Socket Server)> SocketPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync(listener.LocalEndpoint);
        var server = await accept;
        server.NoDelay = true;
        return (client, server);
    }

    [Fact]
    public async Task A_peer_sending_one_byte_at_a_time_costs_one_read_per_byte()
    {
        // Split over three records, so the reader's resumed record walk crosses record boundaries one byte at a time.
        var hello = SplitIntoRecords(Handshake(Body(Sni("slow.example"), Alpn("gatehouse-tcp", "h2"))), 2, 60);
        var (client, server) = await SocketPairAsync();
        using (client)
        using (server)
        {
            var writer = Task.Run(async () =>
            {
                for (var i = 0; i < hello.Length; i++)
                {
                    await client.SendAsync(hello.AsMemory(i, 1));
                    await Task.Delay(1); // a pause so each byte is its own segment; not a readiness wait
                }
            });
            await using var counting = new CountingStream(new NetworkStream(server, ownsSocket: false));
            var (parse, buffered, length) = await ClientHelloReader.ReadAsync(counting, ClientHelloParser.DefaultMaxBytes, Generous, TimeProvider.System, default);
            await writer;
            Assert.True(parse.Status == ClientHelloStatus.Complete, $"{parse.Status}: {parse.Error}");
            Assert.Equal("slow.example", parse.ServerName);
            Assert.Equal(["gatehouse-tcp", "h2"], parse.Alpn);
            Assert.Equal(hello.Length, parse.ConsumedLength);
            Assert.Equal(hello, buffered[..length]);
            // Every read waited for data: at most one per byte, plus the zero-byte read for readiness.
            Assert.InRange(counting.Reads, 1, hello.Length + 1);
            ArrayPool<byte>.Shared.Return(buffered);
        }
    }

    [Fact]
    public async Task A_peer_that_stops_half_way_times_out_and_one_that_closes_is_closed()
    {
        var hello = ClientHello(Sni("stall.example"), Alpn("h2"));
        var half = hello.Length / 2;
        var (client, server) = await SocketPairAsync();
        using (client)
        using (server)
        {
            await client.SendAsync(hello.AsMemory(0, half));
            await using var stream = new NetworkStream(server, ownsSocket: false);
            var (parse, buffered, length) = await ClientHelloReader.ReadAsync(stream, ClientHelloParser.DefaultMaxBytes, TimeSpan.FromMilliseconds(500), TimeProvider.System, default);
            Assert.Equal(ClientHelloStatus.TimedOut, parse.Status);
            Assert.NotNull(parse.Error);
            Assert.Equal(hello[..length], buffered[..length]);
            ArrayPool<byte>.Shared.Return(buffered);

            client.Shutdown(SocketShutdown.Send);
            (parse, buffered, _) = await ClientHelloReader.ReadAsync(stream, ClientHelloParser.DefaultMaxBytes, Generous, TimeProvider.System, default);
            Assert.Equal(ClientHelloStatus.Closed, parse.Status);
            ArrayPool<byte>.Shared.Return(buffered);
        }
    }

    [Fact]
    public async Task Plain_http_and_an_oversized_hello_are_answered_without_waiting_for_more()
    {
        var oversized = SplitIntoRecords(Handshake(Body(Extension(21, new byte[30_000]))), 16_000);
        foreach (var (data, expected) in new[] { (Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n"), ClientHelloStatus.NotTls), (oversized, ClientHelloStatus.TooLarge) })
        {
            var (client, server) = await SocketPairAsync();
            using (client)
            using (server)
            {
                await client.SendAsync(data); // and the connection stays open: the answer must not need EOF
                await using var stream = new NetworkStream(server, ownsSocket: false);
                var (parse, buffered, length) = await ClientHelloReader.ReadAsync(stream, ClientHelloParser.DefaultMaxBytes, Generous, TimeProvider.System, default);
                Assert.Equal(expected, parse.Status);
                Assert.InRange(length, 1, ClientHelloParser.DefaultMaxBytes);
                ArrayPool<byte>.Shared.Return(buffered);
            }
        }
    }

    [Fact]
    public async Task What_was_read_plus_the_rest_completes_a_real_tls_handshake()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + ProxyProtocol.InternalHostName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(ProxyProtocol.InternalHostName);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));

        var (clientSocket, serverSocket) = await SocketPairAsync();
        await using var clientTls = new SslStream(new NetworkStream(clientSocket, ownsSocket: true));
        var clientSide = clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = ProxyProtocol.InternalHostName,
            ApplicationProtocols = [new("gatehouse-ssh-ping"), SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString(),
        });

        var network = new NetworkStream(serverSocket, ownsSocket: true);
        var (hello, buffered, length) = await ClientHelloReader.ReadAsync(network, ClientHelloParser.DefaultMaxBytes, Generous, TimeProvider.System, default);
        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Equal(ProxyProtocol.InternalHostName, hello.ServerName);
        Assert.Equal(["gatehouse-ssh-ping", "http/1.1"], hello.Alpn);

        await using var serverTls = new SslStream(new PrefixedStream(network, buffered, length, ArrayPool<byte>.Shared));
        await serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = certificate,
            ApplicationProtocols = [new(hello.Alpn[0])],
        });
        await clientSide;
        Assert.Equal("gatehouse-ssh-ping", clientTls.NegotiatedApplicationProtocol.ToString());

        await serverTls.WriteAsync("ok"u8.ToArray());
        var answer = new byte[2];
        await clientTls.ReadExactlyAsync(answer);
        Assert.Equal("ok"u8.ToArray(), answer);
    }

    [Fact]
    public async Task Peeking_a_pipe_fed_in_odd_segments_consumes_nothing()
    {
        // The TLS port's case: a Kestrel connection's input pipe, written in pieces; after the peek the next reader
        // (Kestrel's HTTPS, or the service router) must see every byte, the ClientHello and what followed it.
        var hello = ClientHello(Sni("pipe.example"), Alpn("h2", "gatehouse-tcp"));
        byte[] sent = [.. hello, .. "after"u8.ToArray()];
        var pipe = new System.IO.Pipelines.Pipe();
        var writer = Task.Run(async () =>
        {
            for (int at = 0, size = 1; at < sent.Length; at += size, size = size % 7 + 3)
                await pipe.Writer.WriteAsync(sent.AsMemory(at, Math.Min(size, sent.Length - at)));
        });
        var parse = await ClientHelloReader.PeekAsync(pipe.Reader, ClientHelloParser.DefaultMaxBytes, Generous, TimeProvider.System, default);
        await writer;
        Assert.True(parse.Status == ClientHelloStatus.Complete, $"{parse.Status}: {parse.Error}");
        Assert.Equal("pipe.example", parse.ServerName);
        Assert.Equal(["h2", "gatehouse-tcp"], parse.Alpn);
        await pipe.Writer.CompleteAsync();
        var rest = await pipe.Reader.ReadAtLeastAsync(sent.Length);
        Assert.Equal(sent, rest.Buffer.ToArray());
    }

    /// <summary>Counts the reads that ask for data (zero-byte reads included) to show the reader never spins.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public int Reads;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Reads);
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
