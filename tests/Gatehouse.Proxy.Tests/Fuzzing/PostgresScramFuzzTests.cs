using System.Text;
using Gatehouse.Proxy.Services.Postgres;
using Gatehouse.Testing.Fuzzing;
using Xunit.Abstractions;

namespace Gatehouse.Proxy.Tests.Fuzzing;

/// <summary>
/// The SCRAM-SHA-256 client's reading of what a database sends (server-first and server-final messages, RFC 5802 §7),
/// as the proxy logs in to PostgreSQL with configured credentials. The input is both messages, one per line; "{nonce}"
/// in it stands for this exchange's client nonce (random per exchange), so mutations get past the nonce check. Each
/// gives its documented outcome — an InvalidDataException for a server-first it cannot continue from, a sentence or
/// null for the server-final — and nothing else.
/// </summary>
public sealed class PostgresScramFuzzTests(ITestOutputHelper output)
{
    // As PostgreSQL 16 writes them (salt 16 bytes, base64), with 1 iteration so the key derivation does not dominate.
    private static readonly byte[][] Seeds =
    [
        "r={nonce}Jb8mOeEYgr8c9iTiDXfpBDqE,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1\nv=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="u8.ToArray(),
        "r={nonce}x,s=QSXCR+Q6sek8bf92,i=1\ne=invalid-proof"u8.ToArray(),
        "r={nonce}abc,s=c2FsdA==,i=1,x=extension\nv=,e="u8.ToArray(),
    ];

    [Fact]
    public void Postgres_scram()
    {
        var target = new FuzzTarget("postgres-scram", Seeds)
        {
            Tokens = Mutator.Tokens("{nonce}", "r=", "s=", "i=", "v=", "e=", ",", "\n", "==", "4096", "0", "-1", "2147483648", "10000001"),
            MaxLength = 4096,
        };
        Fuzz.Run(target, (input, _) =>
        {
            var scram = new ScramSha256Client("correct horse battery staple");
            var nonce = scram.ClientFirst()[(scram.ClientFirst().IndexOf("r=", StringComparison.Ordinal) + 2)..];
            var text = Encoding.UTF8.GetString(input).Replace("{nonce}", nonce, StringComparison.Ordinal);
            var newline = text.IndexOf('\n');
            var (first, final) = newline < 0 ? (text, "") : (text[..newline], text[(newline + 1)..]);
            try
            {
                var clientFinal = scram.ClientFinal(first);
                if (!clientFinal.Contains(",p=", StringComparison.Ordinal)) throw new InvalidOperationException("a client-final without a proof");
            }
            catch (InvalidDataException)
            {
                return "server-first refused";
            }
            return scram.CheckServerFinal(final) switch
            {
                null => "server verified",
                { Length: > 0 } reason when reason.Contains("refused", StringComparison.Ordinal) => "server refused the proof",
                { Length: > 0 } => "server-final refused",
                _ => throw new InvalidOperationException("an empty refusal sentence"),
            };
        }, output.WriteLine);
    }
}
