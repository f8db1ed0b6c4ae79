using System.Text;
using Gatehouse.Proxy.Services.MySql;
using Gatehouse.Proxy.Services.Postgres;
using Gatehouse.Testing.Fuzzing;
using Xunit.Abstractions;

namespace Gatehouse.Proxy.Tests.Fuzzing;

/// <summary>
/// The database protocol readers on the client's side of the one port (and the MySQL greeting a database sends back):
/// seeded with what real psql and mariadb clients send, fed in odd pieces. Each gives its documented outcome — a refusal
/// sentence, null, or an InvalidDataException that ends the session — and nothing else. (SSH needs no reader here: after
/// the dial frame the node handler relays bytes to sshd untouched.)
/// </summary>
public sealed class DatabaseWireFuzzTests(ClientCaptures captures, ITestOutputHelper output) : IClassFixture<ClientCaptures>
{
    private static readonly byte[] Session =
    [
        .. PostgresWire.Message('Q', "select * from orders where id = 1;\0"u8),
        .. PostgresWire.Message('P', "s1\0select $1::int\0\0\0"u8), .. PostgresWire.Message('B', "\0s1\0\0\0\0\x01\0\0\0\x011\0\0"u8),
        .. PostgresWire.Message('E', "\0\0\0\0\0"u8), .. PostgresWire.Message('S', []), .. PostgresWire.Message('X', []),
    ];

    [Fact]
    public void Postgres_startup()
    {
        var target = new FuzzTarget("postgres-startup", [captures.PsqlStartup, PostgresWire.CancelRequest(1234, 5678), [.. PostgresWire.SslRequest(), .. PostgresWire.SslRequest(), .. captures.PsqlStartup]])
        {
            Tokens = Mutator.Tokens("user\0", "database\0", "options\0", "\0\0", "\x04\xd2\x16\x2f", "\x00\x03\x00\x00"),
        };
        Fuzz.Run(target, (input, random) =>
        {
            var startup = PostgresStartup.ReadAsync(new ChunkedReadStream(input, random), default).GetAwaiter().GetResult();
            if (startup.Parameters is null && startup.Cancel is null && startup.Error is null) throw new InvalidOperationException("no outcome");
            return startup.Error is not null ? "refused" : startup.Cancel is not null ? "cancel" : "session";
        }, output.WriteLine);
    }

    [Fact]
    public void Postgres_messages()
    {
        var target = new FuzzTarget("postgres-messages", [Session]) { Tokens = Mutator.Tokens("Q", "P", "\0", "\x7f\xff\xff\xff", "\0\0\0\x04") };
        Fuzz.Run(target, (input, random) =>
        {
            var statements = 0;
            var scanner = new PostgresQueryScanner(64, (_, _, _) => statements++);
            try
            {
                for (var at = 0; at < input.Length;)
                {
                    var piece = Math.Min(random.Next(1, 64), input.Length - at);
                    scanner.Observe(input.AsSpan(at, piece));
                    at += piece;
                }
                var stream = new ChunkedReadStream(input, random);
                while (PostgresWire.ReadMessageAsync(stream, 1 << 20, default).AsTask().GetAwaiter().GetResult() is not null) { }
            }
            catch (InvalidDataException)
            {
                return "session ended";
            }
            return statements > 0 ? "statements seen" : "no statements";
        }, output.WriteLine);
    }

    [Fact]
    public void MySql_handshake_response()
    {
        var target = new FuzzTarget("mysql-handshake", [captures.MariaDbHandshake]) { Tokens = Mutator.Tokens("\0", "\xfc", "\xfd", "\xfe", "\xff", "mysql_native_password\0") };
        Fuzz.Run(target, (input, _) =>
        {
            var (handshake, error) = MySqlClientHandshake.Parse(input);
            if ((handshake is null) == (error is null)) throw new InvalidOperationException("a handshake or an error, exactly one");
            return handshake is null ? "refused" : "read";
        }, output.WriteLine);
    }

    [Fact]
    public void MySql_greeting()
    {
        var target = new FuzzTarget("mysql-greeting", [MySqlWire.Greeting("11.4.2-MariaDB", 9, Encoding.ASCII.GetBytes("abcdefghijklmnopqrst"), "caching_sha2_password")]);
        Fuzz.Run(target, (input, _) =>
        {
            try
            {
                return MySqlServerGreeting.Parse(input).Scramble.Length <= 20 ? "read" : throw new InvalidOperationException("scramble over 20 bytes");
            }
            catch (InvalidDataException)
            {
                return "refused";
            }
        }, output.WriteLine);
    }

    [Fact]
    public void MySql_command_packets()
    {
        byte[] session =
        [
            .. MySqlWire.Frame(0, [0x03, .. "select * from orders"u8]), .. MySqlWire.Frame(0, [0x02, .. "orders"u8]),
            .. MySqlWire.Frame(0, [0x16, .. "select ?"u8]), .. MySqlWire.Frame(0, [0x11, .. "bob\0"u8]), .. MySqlWire.Frame(0, [0x0e]),
            .. MySqlWire.Frame(0, [0x01]),
        ];
        var target = new FuzzTarget("mysql-commands", [session]) { Tokens = Mutator.Tokens("\xff\xff\xff", "\x02", "\x03", "\x11", "\x12") };
        Fuzz.Run(target, (input, random) =>
        {
            var judge = new Judge();
            var gate = new MySqlCommandGate(new ChunkedReadStream(input, random), judge, 64);
            var buffer = new byte[random.Next(1, 4096)];
            long passed = 0;
            try
            {
                for (int read; (read = gate.ReadAsync(buffer).AsTask().GetAwaiter().GetResult()) > 0;) passed += read;
            }
            catch (InvalidDataException)
            {
                return "session ended";
            }
            if (passed > input.Length) throw new InvalidOperationException($"passed {passed} bytes of {input.Length}");
            return $"{(judge.Refused > 0 ? "refusals" : "no refusals")}, {(judge.Statements > 0 ? "statements" : "no statements")}";
        }, output.WriteLine);
    }

    /// <summary>Allows every database but "secret", refuses what the gate asks it to, counts statements.</summary>
    private sealed class Judge : IMySqlCommandJudge
    {
        public int Refused { get; private set; }
        public int Statements { get; private set; }

        public ValueTask<string?> ChangeDatabaseAsync(string database, CancellationToken cancellationToken)
        {
            if (database != "secret") return ValueTask.FromResult<string?>(null);
            Refused++;
            return ValueTask.FromResult<string?>("access denied to database 'secret'");
        }

        public ValueTask<string> RefuseCommandAsync(byte command, CancellationToken cancellationToken)
        {
            Refused++;
            return ValueTask.FromResult($"command 0x{command:x2} is not allowed");
        }

        public void Statement(string protocol, string text, bool cut) => Statements++;
    }
}
