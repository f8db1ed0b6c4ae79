using System.Buffers.Binary;
using System.Net.Security;
using System.Text;
using Gatehouse.Proxy.Resources;
using Gatehouse.Proxy.Services.Databases;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>A session the database has accepted: the stream to it, what it said up to its first <c>ReadyForQuery</c>
/// (parameter statuses, notices — passed on to the client) and its cancel key.</summary>
internal sealed record PostgresSession(Stream Stream, IReadOnlyList<byte[]> Greeting, (int ProcessId, int SecretKey) BackendKey);

/// <summary>
/// Opens a session on a database for a user: TCP, then TLS as resources.databases[].tls says (SSLRequest first, as libpq
/// does), then the StartupMessage, then authentication — the db client certificate at the TLS handshake, or SCRAM-SHA-256
/// with the configured password — until the database is ready for queries.
/// </summary>
internal static class PostgresUpstream
{
    /// <summary>Parameter statuses and notices before ReadyForQuery: a server sends a few dozen.</summary>
    private const int MaxGreetingMessages = 1000;

    public static Task<(PostgresSession? Session, DatabaseStartFailure? Failure)> OpenAsync(Database database, string dbUser,
        IReadOnlyList<KeyValuePair<string, string>> clientParameters, DbClientCertificates certificates, CancellationToken cancellationToken) =>
        DatabaseUpstream.OpenAsync(database, async (connection, deadline) =>
        {
            if (database.Tls.Mode != UpstreamTlsMode.Disable)
            {
                var (tls, failure) = await StartTlsAsync(connection.Stream, database, dbUser, certificates, deadline);
                if (failure is not null) return (null, failure);
                connection.Stream = tls!;
            }
            var user = database.Auth is PasswordDatabaseAuth password ? password.User : dbUser;
            IEnumerable<KeyValuePair<string, string>> parameters =
                [new("user", user), .. clientParameters.Where(p => p.Key != "user")];
            await connection.Stream.WriteAsync(PostgresWire.StartupMessage(parameters), deadline);
            await connection.Stream.FlushAsync(deadline);
            return await AuthenticateAsync(connection.Stream, database, deadline);
        }, cancellationToken);

    private static async Task<(SslStream? Tls, DatabaseStartFailure? Failure)> StartTlsAsync(Stream stream, Database database, string dbUser,
        DbClientCertificates certificates, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(PostgresWire.SslRequest(), cancellationToken);
        await stream.FlushAsync(cancellationToken);
        var answer = new byte[1];
        if (await stream.ReadAtLeastAsync(answer, 1, throwOnEndOfStream: false, cancellationToken) < 1 || answer[0] != (byte)'S')
            return (null, new DatabaseStartFailure(
                $"database '{database.Name}' at {database.Address} does not speak TLS (it answered the SSLRequest with '{(char)answer[0]}'); turn ssl on in its postgresql.conf, or set tls.mode: disable for a network you trust"));
        var (tls, failure) = await DatabaseTlsClient.AuthenticateAsync(stream, database, dbUser, certificates, cancellationToken);
        return (tls, failure is null ? null : new DatabaseStartFailure(failure));
    }

    /// <summary>Answers the database's authentication requests and collects what it says until <c>ReadyForQuery</c>.</summary>
    private static async Task<(PostgresSession?, DatabaseStartFailure?)> AuthenticateAsync(Stream stream, Database database,
        CancellationToken cancellationToken)
    {
        var greeting = new List<byte[]>();
        (int, int) backendKey = (0, 0);
        ScramSha256Client? scram = null;
        while (await PostgresWire.ReadMessageAsync(stream, PostgresWire.MaxStartMessageLength, cancellationToken) is var (type, body))
        {
            switch (type)
            {
                case 'R':
                    if (body.Length < 4) throw new InvalidDataException("an authentication request without its code");
                    var step = await AuthenticationStepAsync(stream, database, BinaryPrimitives.ReadInt32BigEndian(body), body.AsSpan(4).ToArray(),
                        scram, cancellationToken);
                    if (step.Failure is not null) return (null, step.Failure);
                    scram = step.Scram;
                    break;
                case 'E':
                    return (null, new DatabaseStartFailure("", PostgresWire.Message('E', body)));
                case 'K' when body.Length == 8:
                    backendKey = (BinaryPrimitives.ReadInt32BigEndian(body), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(4)));
                    break;
                case 'S' or 'N' or 'v':
                    if (greeting.Count >= MaxGreetingMessages)
                        throw new InvalidDataException($"the database sent more than {MaxGreetingMessages} messages before it was ready");
                    greeting.Add(PostgresWire.Message(type, body));
                    break;
                case 'Z':
                    greeting.Add(PostgresWire.Message(type, body));
                    return (new PostgresSession(stream, greeting, backendKey), null);
                default:
                    throw new InvalidDataException($"an unexpected '{type}' message while the session starts");
            }
        }
        throw new InvalidDataException("the database closed the connection while the session started");
    }

    private static async Task<(ScramSha256Client? Scram, DatabaseStartFailure? Failure)> AuthenticationStepAsync(Stream stream, Database database,
        int code, byte[] data, ScramSha256Client? scram, CancellationToken cancellationToken)
    {
        const int Ok = 0, Sasl = 10, SaslContinue = 11, SaslFinal = 12;
        switch (code)
        {
            case Ok:
                return (scram, null);
            case Sasl when database.Auth is PasswordDatabaseAuth password:
                var mechanisms = Encoding.UTF8.GetString(data).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (!mechanisms.Contains(ScramSha256Client.Mechanism))
                    return (null, new DatabaseStartFailure($"database '{database.Name}' offers {string.Join(", ", mechanisms)}; Gatehouse logs in with {ScramSha256Client.Mechanism}"));
                scram = new ScramSha256Client(password.ReadPassword());
                await WriteSaslAsync(stream, scram.ClientFirst(), initial: true, cancellationToken);
                return (scram, null);
            case SaslContinue when scram is not null:
                await WriteSaslAsync(stream, scram.ClientFinal(Encoding.UTF8.GetString(data)), initial: false, cancellationToken);
                return (scram, null);
            case SaslFinal when scram is not null:
                return scram.CheckServerFinal(Encoding.UTF8.GetString(data)) is { } problem
                    ? (null, new DatabaseStartFailure($"database '{database.Name}': {problem}"))
                    : (scram, null);
            default:
                var asked = code switch { 3 => "a cleartext password", 5 => "an MD5 password", Sasl => "a SCRAM password", 7 or 8 => "GSSAPI", 9 => "SSPI", _ => $"authentication {code}" };
                return (null, new DatabaseStartFailure(database.Auth is CertificateDatabaseAuth
                    ? $"database '{database.Name}' asked for {asked} instead of accepting the db client certificate: its pg_hba.conf needs `hostssl <db> <user> <proxy address> cert` (see docs/databases.md)"
                    : $"database '{database.Name}' asked for {asked}; Gatehouse logs in with {ScramSha256Client.Mechanism} (set password_encryption = scram-sha-256 and the user's password again)"));
        }
    }

    private static async Task WriteSaslAsync(Stream stream, string message, bool initial, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(message);
        var body = new List<byte>();
        if (initial)
        {
            body.AddRange(Encoding.ASCII.GetBytes(ScramSha256Client.Mechanism));
            body.Add(0);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, payload.Length);
            body.AddRange(length);
        }
        body.AddRange(payload);
        await stream.WriteAsync(PostgresWire.Message('p', body.ToArray()), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }
}
