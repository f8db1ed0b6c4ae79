using System.Buffers.Binary;
using System.Text;
using Gatehouse.Proxy.Services.Postgres;

namespace Gatehouse.Proxy.Tests.Services;

/// <summary>The PostgreSQL messages the proxy reads from clients — startup packets, cancel requests and the statements it
/// audits — against well-formed input, every split of it, and random and mutated bytes: a refusal or a clean end, never a
/// crash (issue 14's bad input).</summary>
public sealed class PostgresWireTests
{
    private static byte[] Startup(params string[] pairs) =>
        PostgresWire.StartupMessage(pairs.Chunk(2).Select(p => new KeyValuePair<string, string>(p[0], p[1])));

    [Fact]
    public async Task A_startup_message_gives_its_parameters_in_order()
    {
        var startup = await PostgresStartup.ReadAsync(new MemoryStream(Startup("user", "alice", "database", "orders", "application_name", "psql")),
            CancellationToken.None);

        Assert.Null(startup.Error);
        Assert.Equal(["user", "database", "application_name"], startup.Parameters!.Select(p => p.Key));
        Assert.Equal("orders", startup.Parameter("database"));
    }

    [Fact]
    public async Task An_ssl_request_inside_the_tunnel_is_answered_N_and_the_startup_read_after_it()
    {
        var input = new MemoryStream([.. PostgresWire.SslRequest(), .. Startup("user", "alice")]);
        var answer = new MemoryStream();
        var startup = await PostgresStartup.ReadAsync(new DuplexTestStream(input, answer), CancellationToken.None);

        Assert.Equal("alice", startup.Parameter("user"));
        Assert.Equal("N"u8.ToArray(), answer.ToArray());
    }

    [Fact]
    public async Task A_cancel_request_gives_its_key()
    {
        var startup = await PostgresStartup.ReadAsync(new MemoryStream(PostgresWire.CancelRequest(1234, -5)), CancellationToken.None);

        Assert.Equal((1234, -5), startup.Cancel);
    }

    [Theory]
    [InlineData("user", "a", "user", "b")]
    [InlineData("database", "x")]
    public async Task Duplicate_parameters_and_a_missing_user_are_refused(params string[] pairs)
    {
        var startup = await PostgresStartup.ReadAsync(new MemoryStream(Startup(pairs)), CancellationToken.None);

        Assert.NotNull(startup.Error);
        Assert.Null(startup.Parameters);
    }

    [Fact]
    public async Task Another_protocol_version_and_an_oversize_packet_are_refused_with_a_sentence()
    {
        var v2 = Startup("user", "alice");
        BinaryPrimitives.WriteInt32BigEndian(v2.AsSpan(4), 2 << 16);
        var huge = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(huge, 1 << 20);
        BinaryPrimitives.WriteInt32BigEndian(huge.AsSpan(4), PostgresWire.ProtocolVersion3);

        Assert.Contains("protocol version 2.0", (await PostgresStartup.ReadAsync(new MemoryStream(v2), CancellationToken.None)).Error);
        Assert.Contains("out of range", (await PostgresStartup.ReadAsync(new MemoryStream(huge), CancellationToken.None)).Error);
    }

    [Fact]
    public async Task Random_and_mutated_startup_packets_are_refused_or_read_never_thrown()
    {
        var random = new Random(14);
        var valid = Startup("user", "alice", "database", "orders", "options", "-c search_path=x");
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = i % 2 == 0 ? valid.ToArray() : new byte[random.Next(0, 64)];
            if (i % 2 == 0)
                for (var flips = random.Next(1, 4); flips > 0; flips--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            else
                random.NextBytes(bytes);
            var startup = await PostgresStartup.ReadAsync(new DuplexTestStream(new MemoryStream(bytes), Stream.Null), CancellationToken.None);
            Assert.True(startup.Error is not null || startup.Parameters is not null || startup.Cancel is not null);
        }
    }

    private static byte[] Query(string sql) => PostgresWire.Message('Q', [.. Encoding.UTF8.GetBytes(sql), 0]);

    private static byte[] Parse(string name, string sql) =>
        PostgresWire.Message('P', [.. Encoding.UTF8.GetBytes(name), 0, .. Encoding.UTF8.GetBytes(sql), 0, 0, 0]);

    [Fact]
    public void The_scanner_reports_each_statement_whatever_the_chunks()
    {
        byte[] stream = [.. Query("select 1"), .. PostgresWire.Message('S', []), .. Parse("s1", "select $1::int"), .. PostgresWire.Message('B', [0, 0, 0, 0, 0, 0, 0]),
            .. Query("select 'é' as x")];
        for (var split = 0; split <= stream.Length; split++)
        {
            var seen = new List<(char, string, bool)>();
            var scanner = new PostgresQueryScanner(4096, (kind, text, cut) => seen.Add((kind, text, cut)));
            scanner.Observe(stream.AsSpan(0, split));
            scanner.Observe(stream.AsSpan(split));
            Assert.Equal([('Q', "select 1", false), ('P', "select $1::int", false), ('Q', "select 'é' as x", false)], seen);
        }
    }

    [Fact]
    public void A_long_statement_is_cut_at_the_limit_without_a_broken_character()
    {
        var seen = new List<(char Kind, string Text, bool Cut)>();
        var scanner = new PostgresQueryScanner(16, (kind, text, cut) => seen.Add((kind, text, cut)));

        scanner.Observe(Query("select 'ééééééééééé'"));

        var (_, text, cut) = Assert.Single(seen);
        Assert.True(cut);
        Assert.True(Encoding.UTF8.GetByteCount(text) <= 16);
        Assert.DoesNotContain('\uFFFD', text);
    }

    [Fact]
    public void A_message_length_no_server_accepts_ends_the_session()
    {
        var scanner = new PostgresQueryScanner(64, (_, _, _) => { });

        Assert.Throws<InvalidDataException>(() => scanner.Observe([(byte)'Q', 0, 0, 0, 2]));
        Assert.Throws<InvalidDataException>(() => new PostgresQueryScanner(64, (_, _, _) => { }).Observe([(byte)'Q', 0xFF, 0xFF, 0xFF, 0xFF]));
    }

    [Fact]
    public void Random_bytes_through_the_scanner_end_the_session_or_pass_never_crash()
    {
        var random = new Random(15);
        for (var i = 0; i < 5_000; i++)
        {
            var bytes = new byte[random.Next(1, 256)];
            random.NextBytes(bytes);
            var scanner = new PostgresQueryScanner(32, (_, text, _) => Assert.NotNull(text));
            try
            {
                for (var at = 0; at < bytes.Length;)
                {
                    var take = random.Next(1, bytes.Length - at + 1);
                    scanner.Observe(bytes.AsSpan(at, take));
                    at += take;
                }
            }
            catch (InvalidDataException)
            {
                // A refusal: the session ends.
            }
        }
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 8, 4, 210, 22, 47 }, PostgresWire.SslRequestCode)]
    [InlineData(new byte[] { 0, 0, 0, 8, 4, 210, 22, 48 }, PostgresWire.GssEncRequestCode)]
    [InlineData(new byte[] { 0, 0, 0, 16, 4, 210, 22, 46 }, PostgresWire.CancelRequestCode)]
    [InlineData(new byte[] { 0, 0, 0, 9, 4, 210, 22, 47 }, 0)]
    [InlineData(new byte[] { 22, 3, 1, 0, 200, 1, 0, 0 }, 0)]
    public void Request_codes_are_recognised_only_with_their_length(byte[] first, int code) =>
        Assert.Equal(code, PostgresWire.RequestCode(first));

    /// <summary>Reads from one stream and writes to another, as a connection does.</summary>
    private sealed class DuplexTestStream(Stream input, Stream output) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => output.Flush();
        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);
    }
}
