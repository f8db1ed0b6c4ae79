using System.Text;
using Gatehouse.Proxy.Resources;
using Gatehouse.Proxy.Services.Databases;

namespace Gatehouse.Proxy.Services.MySql;

/// <summary>A session the database has accepted: the stream to it, its OK packet's payload (passed on to the client)
/// and its server version (the next client's greeting names it).</summary>
internal sealed record MySqlSession(Stream Stream, byte[] Ok, string ServerVersion);

/// <summary>
/// Opens a session on a MySQL or MariaDB database for a user: TCP, the server's greeting, TLS as
/// resources.databases[].tls says (an SSLRequest, then the handshake — with the db client certificate for auth kind
/// certificate), then the HandshakeResponse41 and whatever the server's auth plugin asks, until its OK.
/// </summary>
internal static class MySqlUpstream
{
    private const int MaxAuthRounds = 8, MaxStartPacket = 64 * 1024;

    /// <summary>Capabilities that shape what the server sends after the login: a client that asked for one the server
    /// lacks would misread the replies, so such a session is refused rather than relayed.</summary>
    private const uint MustAgree = MySqlWire.DeprecateEof | MySqlWire.SessionTrack | MySqlWire.MultiResults | MySqlWire.PsMultiResults;

    /// <summary>Only the connection phase uses these, so the proxy sets them for its own login whatever the client asked.</summary>
    private const uint ForTheLogin = MySqlWire.Protocol41 | MySqlWire.SecureConnection | MySqlWire.PluginAuth | MySqlWire.PluginAuthLenencClientData;

    public static Task<(MySqlSession? Session, DatabaseStartFailure? Failure)> OpenAsync(Database database, string dbUser,
        MySqlClientHandshake client, DbClientCertificates certificates, CancellationToken cancellationToken) =>
        DatabaseUpstream.OpenAsync(database, (connection, deadline) => StartAsync(connection, database, dbUser, client, certificates, deadline),
            cancellationToken);

    private static async Task<(MySqlSession? Session, DatabaseStartFailure? Failure)> StartAsync(DatabaseConnection connection, Database database,
        string dbUser, MySqlClientHandshake client, DbClientCertificates certificates, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        var packet = await MySqlWire.ReadPacketAsync(stream, MaxStartPacket, cancellationToken)
            ?? throw new InvalidDataException("it closed the connection before its greeting");
        var greeting = MySqlServerGreeting.Parse(packet.Payload);
        if ((client.Capabilities & MustAgree & ~greeting.Capabilities) is var lacking and not 0)
            return Fail($"database '{database.Name}' lacks protocol capabilities the client asked for (0x{lacking:x}); use a client of the server's generation");
        var capabilities = (client.Capabilities & greeting.Capabilities & MySqlWire.Offered & ~MySqlWire.ConnectWithDb)
            | (ForTheLogin & greeting.Capabilities) | (client.Database is null ? 0 : MySqlWire.ConnectWithDb);
        var sequence = (byte)(packet.Sequence + 1);
        var tls = false;
        if (database.Tls.Mode != UpstreamTlsMode.Disable)
        {
            if ((greeting.Capabilities & MySqlWire.Ssl) == 0)
                return Fail($"database '{database.Name}' at {database.Address} does not speak TLS (its greeting offers no SSL); set ssl_cert and ssl_key in its server configuration, or tls.mode: disable for a network you trust");
            await MySqlWire.WritePacketAsync(stream, sequence++, MySqlWire.SslRequest(capabilities, client.Charset), cancellationToken);
            var (secured, failure) = await DatabaseTlsClient.AuthenticateAsync(stream, database, dbUser, certificates, cancellationToken);
            if (secured is null) return Fail(failure!);
            connection.Stream = stream = secured;
            capabilities |= MySqlWire.Ssl;
            tls = true;
        }
        var (user, password) = database.Auth is PasswordDatabaseAuth configured ? (configured.User, configured.ReadPassword()) : (dbUser, "");
        // A greeting naming a plugin Gatehouse does not speak is answered as mysql_native_password: the server switches
        // to the user's own plugin, and only that one decides.
        var plugin = greeting.AuthPlugin;
        var answer = MySqlAuthentication.Answer(plugin, password, greeting.Scramble);
        if (answer is null) (plugin, answer) = (MySqlAuthentication.NativePassword, MySqlAuthentication.NativeScramble(password, greeting.Scramble));
        await MySqlWire.WritePacketAsync(stream, sequence++, MySqlWire.HandshakeResponse(capabilities, client.Charset, user, answer, client.Database,
            plugin, client.ConnectAttributes), cancellationToken);
        var (ok, authFailure) = await AuthenticateAsync(stream, database, password, tls, cancellationToken);
        return ok is null ? (null, authFailure) : (new MySqlSession(stream, ok, greeting.Version), null);
    }

    private static (MySqlSession?, DatabaseStartFailure) Fail(string message) => (null, new DatabaseStartFailure(message));

    /// <summary>Answers the server's auth plugin (a switch of plugin, caching_sha2_password's fast or full path) until
    /// its OK (returned) or ERR.</summary>
    private static async Task<(byte[]? Ok, DatabaseStartFailure? Failure)> AuthenticateAsync(Stream stream, Database database, string password,
        bool tls, CancellationToken cancellationToken)
    {
        var certificate = database.Auth is CertificateDatabaseAuth;
        for (var round = 0; round < MaxAuthRounds; round++)
        {
            var packet = await MySqlWire.ReadPacketAsync(stream, MaxStartPacket, cancellationToken)
                ?? throw new InvalidDataException("it closed the connection during the login");
            var payload = packet.Payload;
            var sequence = (byte)(packet.Sequence + 1);
            switch (payload.Length == 0 ? -1 : payload[0])
            {
                case 0x00:
                    return (payload, null);
                case 0xFF:
                    return (null, new DatabaseStartFailure("", payload));
                case 0xFE:
                    // AuthSwitchRequest: the user's plugin differs from the greeting's; it names the plugin and a new scramble.
                    var at = 1;
                    var plugin = MySqlWire.ReadNulString(payload, ref at) ?? Encoding.UTF8.GetString(payload.AsSpan(1));
                    var scramble = payload.AsSpan(Math.Min(at, payload.Length)).TrimEnd((byte)0);
                    if (MySqlAuthentication.Answer(plugin, password, scramble) is not { } answer)
                        return (null, new DatabaseStartFailure(certificate
                            ? $"database '{database.Name}' asked for {plugin} instead of accepting the db client certificate: create the user with no password and REQUIRE SUBJECT '/CN=<db user>' (see docs/databases.md)"
                            : $"database '{database.Name}' logs this user in with {plugin}; Gatehouse speaks {MySqlAuthentication.CachingSha2} and {MySqlAuthentication.NativePassword} (ALTER USER … IDENTIFIED WITH one of them)"));
                    await MySqlWire.WritePacketAsync(stream, sequence, answer, cancellationToken);
                    break;
                case 0x01 when payload.Length >= 2 && payload[1] == 3:
                    break; // caching_sha2_password: fast authentication succeeded; the OK follows
                case 0x01 when payload.Length >= 2 && payload[1] == 4:
                    // caching_sha2_password: full authentication, the password itself — only inside TLS.
                    if (!tls)
                        return (null, new DatabaseStartFailure($"database '{database.Name}' wants the password in full (caching_sha2_password's full authentication), which Gatehouse sends only over TLS; set tls.mode verify-full or require"));
                    await MySqlWire.WritePacketAsync(stream, sequence, Encoding.UTF8.GetBytes(password + "\0"), cancellationToken);
                    break;
                default:
                    throw new InvalidDataException($"an unexpected packet (0x{(payload.Length == 0 ? 0 : payload[0]):x2}) during the login");
            }
        }
        throw new InvalidDataException($"the login took more than {MaxAuthRounds} rounds");
    }
}
