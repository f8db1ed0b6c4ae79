using System.Security.Cryptography;
using System.Text;
using Gatehouse.Proxy.Services.MySql;

namespace Gatehouse.Proxy.Tests.Services;

/// <summary>The MySQL packets the proxy reads — a client's HandshakeResponse41, a server's greeting, and the commands the
/// relay frames — against well-formed input, odd chunkings, and random and mutated bytes: a refusal or a clean end,
/// never a crash (issue 15's bad input). And the password scrambles, checked as a server checks them.</summary>
public sealed class MySqlWireTests
{
    private const uint ClientCapabilities = MySqlWire.Offered | MySqlWire.ConnectWithDb;

    private static byte[] Response(string user, string? database, uint capabilities = ClientCapabilities) =>
        MySqlWire.HandshakeResponse(capabilities, MySqlWire.Utf8Mb4, user, new byte[20], database, MySqlAuthentication.NativePassword, [3, 1, (byte)'a', 0]);

    [Fact]
    public void A_handshake_response_gives_its_user_database_and_attributes()
    {
        var (handshake, error) = MySqlClientHandshake.Parse(Response("alice", "shop"));

        Assert.Null(error);
        Assert.Equal("alice", handshake!.User);
        Assert.Equal("shop", handshake.Database);
        Assert.Equal([3, 1, (byte)'a', 0], handshake.ConnectAttributes);
    }

    [Theory]
    [InlineData(MySqlWire.Ssl, "TLS inside Gatehouse's own TLS")]
    [InlineData(MySqlWire.Compress, "compression")]
    public void Tls_and_compression_inside_the_tunnel_are_refused_with_what_to_do(uint extra, string said)
    {
        var (handshake, error) = MySqlClientHandshake.Parse(Response("alice", null, ClientCapabilities | extra));

        Assert.Null(handshake);
        Assert.Contains(said, error);
    }

    [Fact]
    public void A_pre_4_1_client_and_a_missing_user_are_refused()
    {
        Assert.Contains("before MySQL 4.1", MySqlClientHandshake.Parse(Response("alice", null, ClientCapabilities & ~MySqlWire.Protocol41)).Error);
        Assert.Contains("names no user", MySqlClientHandshake.Parse(Response("", "shop")).Error);
    }

    [Fact]
    public void Random_and_mutated_handshake_responses_are_refused_or_read_never_thrown()
    {
        var random = new Random(15);
        var good = Response("alice", "shop");
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = i % 2 == 0 ? good.ToArray() : new byte[random.Next(0, 200)];
            if (i % 2 == 1) random.NextBytes(bytes);
            else for (var m = random.Next(1, 6); m > 0; m--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            if (i % 7 == 0) bytes = bytes[..random.Next(bytes.Length + 1)];
            var (handshake, error) = MySqlClientHandshake.Parse(bytes);
            Assert.True(handshake is not null ^ error is not null);
        }
    }

    [Fact]
    public void The_proxys_greeting_reads_back_as_a_server_greeting()
    {
        var scramble = Enumerable.Range(1, 20).Select(b => (byte)b).ToArray();
        var greeting = MySqlServerGreeting.Parse(MySqlWire.Greeting("10.11.6-MariaDB", 7, scramble, MySqlAuthentication.CachingSha2));

        Assert.Equal("10.11.6-MariaDB", greeting.Version);
        Assert.Equal(scramble, greeting.Scramble);
        Assert.Equal(MySqlAuthentication.CachingSha2, greeting.AuthPlugin);
        Assert.Equal(MySqlWire.Offered, greeting.Capabilities);
    }

    [Fact]
    public void Random_and_mutated_greetings_are_read_or_refused_as_invalid_data()
    {
        var random = new Random(16);
        var good = MySqlWire.Greeting("8.0.36", 1, new byte[20], MySqlAuthentication.NativePassword);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = good.ToArray();
            for (var m = random.Next(1, 6); m > 0; m--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            if (i % 5 == 0) bytes = bytes[..random.Next(bytes.Length + 1)];
            try
            {
                MySqlServerGreeting.Parse(bytes);
            }
            catch (InvalidDataException)
            {
                // refused: the session does not start
            }
        }
    }

    [Fact]
    public void The_native_scramble_is_what_the_server_checks_against_the_stored_hash()
    {
        var scramble = RandomNumberGenerator.GetBytes(20);
        var response = MySqlAuthentication.NativeScramble("s3cret", scramble);

        // The server keeps SHA1(SHA1(password)); it recovers SHA1(password) from the response and hashes it again.
        var stored = SHA1.HashData(SHA1.HashData(Encoding.UTF8.GetBytes("s3cret")));
        var mask = SHA1.HashData([.. scramble, .. stored]);
        var stage1 = response.Select((b, i) => (byte)(b ^ mask[i])).ToArray();
        Assert.Equal(stored, SHA1.HashData(stage1));
        Assert.Empty(MySqlAuthentication.NativeScramble("", scramble));
    }

    [Fact]
    public void The_caching_sha2_scramble_is_what_the_server_checks_against_its_cache()
    {
        var scramble = RandomNumberGenerator.GetBytes(20);
        var response = MySqlAuthentication.CachingSha2Scramble("s3cret", scramble);

        var stored = SHA256.HashData(SHA256.HashData(Encoding.UTF8.GetBytes("s3cret")));
        var mask = SHA256.HashData([.. stored, .. scramble]);
        var stage1 = response.Select((b, i) => (byte)(b ^ mask[i])).ToArray();
        Assert.Equal(stored, SHA256.HashData(stage1));
    }

    private static byte[] Command(byte command, string text, byte sequence = 0) =>
        MySqlWire.Frame(sequence, [command, .. Encoding.UTF8.GetBytes(text)]);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16 * 1024)]
    public async Task The_gate_passes_commands_reports_statements_and_answers_a_refused_use_itself(int chunk)
    {
        byte[] query = Command(0x03, "select 1"), initDb = Command(0x02, "secrets"), prepare = Command(0x16, "select ?"), ping = Command(0x0E, "");
        var judge = new Judge(allowed: "shop");
        var client = new ClientStream([.. query, .. initDb, .. Command(0x02, "shop"), .. prepare, .. ping]);
        await using var gate = new MySqlCommandGate(client, judge, maxText: 4);

        var upstream = await ReadAllAsync(gate, chunk);

        Assert.Equal([.. query, .. Command(0x02, "shop"), .. prepare, .. ping], upstream);
        Assert.Equal([("text", "sele", true), ("prepare", "sele", true)], judge.Statements);
        var answer = client.Written.ToArray();
        Assert.Equal(1, answer[3]); // sequence id 1, after the command's 0
        Assert.Equal(0xFF, answer[4]);
        Assert.Contains("db_names", Encoding.UTF8.GetString(answer));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(16 * 1024)]
    public async Task A_statement_larger_than_a_read_passes_in_chunks_and_is_reported_once(int chunk)
    {
        var text = "select '" + new string('x', 40_000) + "'";
        byte[] large = Command(0x03, text), after = Command(0x03, "select 2");
        var judge = new Judge(allowed: "shop");
        await using var gate = new MySqlCommandGate(new ClientStream([.. large, .. after]), judge, maxText: 10);

        var upstream = await ReadAllAsync(gate, chunk);

        Assert.Equal([.. large, .. after], upstream);
        Assert.Equal([("text", "select 'xx", true), ("text", "select 2", false)], judge.Statements);
    }

    [Fact]
    public async Task A_change_of_user_never_goes_upstream()
    {
        var client = new ClientStream([.. Command(0x11, "bob\0"), .. Command(0x03, "select 1")]);
        await using var gate = new MySqlCommandGate(client, new Judge("shop"), maxText: 100);

        var upstream = await ReadAllAsync(gate, 100);

        Assert.Equal(Command(0x03, "select 1"), upstream);
        Assert.Contains("gatehouse: refused", Encoding.UTF8.GetString(client.Written.ToArray()));
    }

    [Fact]
    public async Task Random_bytes_through_the_gate_pass_or_end_the_session_never_crash()
    {
        var random = new Random(17);
        for (var i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length > 4) bytes[0] = bytes[1] = bytes[2] = 0; // short lengths: more whole packets
            await using var gate = new MySqlCommandGate(new ClientStream(bytes), new Judge("shop"), maxText: 16);
            try
            {
                await ReadAllAsync(gate, random.Next(1, 64));
            }
            catch (InvalidDataException)
            {
                // a packet cut short: the session ends
            }
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream gate, int chunk)
    {
        var output = new MemoryStream();
        var buffer = new byte[chunk];
        while (await gate.ReadAsync(buffer) is var read and > 0) output.Write(buffer, 0, read);
        return output.ToArray();
    }

    private sealed class Judge(string allowed) : IMySqlCommandJudge
    {
        public List<(string, string, bool)> Statements { get; } = [];

        public ValueTask<string?> ChangeDatabaseAsync(string database, CancellationToken cancellationToken) =>
            ValueTask.FromResult(database == allowed ? null : $"db_names does not allow {database}");

        public ValueTask<string> RefuseCommandAsync(byte command, CancellationToken cancellationToken) => ValueTask.FromResult("refused");

        public void Statement(string protocol, string text, bool cut) => Statements.Add((protocol, text, cut));
    }

    /// <summary>A client connection: reads what it was given, keeps what is written to it.</summary>
    private sealed class ClientStream(byte[] input) : MemoryStream(input, writable: false)
    {
        public MemoryStream Written { get; } = new();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
