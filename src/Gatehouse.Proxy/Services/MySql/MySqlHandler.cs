using System.Collections.Concurrent;
using System.Security.Cryptography;
using Gatehouse.Access;
using Gatehouse.Access.Roles;
using Gatehouse.Audit;
using Gatehouse.Proxy.Resources;
using Gatehouse.Proxy.Services.Databases;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services.MySql;

/// <summary>
/// <c>gatehouse-mysql</c>: MySQL and MariaDB databases (resources.databases, protocol mysql), reached through a local
/// proxy (<c>gatehouse proxy db</c>, <c>gatehouse db connect</c>) — a MySQL server speaks first, so a plain client cannot
/// be recognised on the one port. The proxy plays the server's side of the connection phase: its own greeting (without
/// TLS: the connection is inside Gatehouse's), the client's HandshakeResponse (db user, database), the roles' decision
/// (db_labels, db_users, db_names), the login upstream as that user — with the db client certificate, or the configured
/// password — and then relays, judging each change of database and auditing each statement. Refusals reach the client
/// as an ERR packet it prints (1045, or 1044 for a database).
/// </summary>
internal sealed class MySqlHandler(ProxyOptions options, RoleCatalog roles, DbClientCertificates certificates, QueryAuditWriter queryAudit,
    TimeProvider time, GatehouseMetrics metrics, ILogger<MySqlHandler> logger) : IProtocolHandler
{
    /// <summary>The version a greeting names before a session to the database has told the real one.</summary>
    private const string DefaultVersion = "8.0.36-gatehouse";

    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, Database> _databases = DatabaseSessions.Of(options, Database.MySqlProtocol);

    /// <summary>Each database's server version as its last session's greeting said (clients choose features by it).</summary>
    private readonly ConcurrentDictionary<string, string> _versions = new(StringComparer.OrdinalIgnoreCase);

    private int _connectionIds;

    public string Protocol => AlpnProtocols.MySql;

    public async Task ServeAsync(ServiceConnection connection, CancellationToken cancellationToken)
    {
        // 1. Which database.
        if (await DatabaseSessions.AcceptAsync(connection, _databases, "MySQL", "name the database: gatehouse proxy db NAME (`gatehouse ls dbs` lists them)",
                dbNameDefaultsToUser: false, roles, cancellationToken) is not { } accepted)
            return;
        var (database, checker) = accepted;
        Stream client = connection.Ping ? new PingFramedStream(connection.Tls, options.PingInterval, time) : connection.Tls;
        try
        {
            await ServeSessionAsync(connection, client, database, checker, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // The client left or sent what cannot be framed during the connection phase: nothing more to tell it.
            ProxyLog.MySqlRefused(logger, connection.Facts.ConnectionId, connection.Caller.Client.ToString(), e.Message);
        }
        finally
        {
            if (connection.Ping) await client.DisposeAsync();
        }
    }

    private async Task ServeSessionAsync(ServiceConnection connection, Stream client, Database database, AccessChecker checker,
        CancellationToken cancellationToken)
    {
        var caller = connection.Caller;

        // 2. The greeting, and the client's answer: the db user and database it asks for.
        var (handshake, problem) = await HandshakeAsync(client, database, cancellationToken);
        if (handshake is null)
        {
            if (problem is null) return; // the client left
            ProxyLog.MySqlRefused(logger, connection.Facts.ConnectionId, caller.Client.ToString(), problem);
            await WriteAsync(client, MySqlWire.Error(MySqlWire.HandshakeError, "08S01", $"gatehouse: {problem}"), cancellationToken);
            return;
        }
        var dbUser = handshake.User;
        var dbName = handshake.Database;

        // 3. May they: the roles, and for a password database its one user.
        if (await DatabaseSessions.DecideAsync(connection, checker, database, dbUser, dbName, logger, cancellationToken) is { } reason)
        {
            var onName = dbName is not null && checker.CheckDatabaseUser(database.Name, database.Labels, dbUser).Allowed;
            await WriteAsync(client, onName ? MySqlWire.Error(MySqlWire.DbAccessDenied, "42000", $"gatehouse: {reason}")
                : MySqlWire.Error(MySqlWire.AccessDenied, "28000", $"gatehouse: {reason}"), cancellationToken);
            return;
        }

        // 4. The session upstream, as that user; its OK is the client's.
        var (session, failure) = await MySqlUpstream.OpenAsync(database, dbUser, handshake, certificates, cancellationToken);
        if (session is null)
        {
            ProxyLog.DatabaseSessionFailed(logger, caller.User, database.Name, dbUser,
                failure!.ServerError is null ? failure.Message : $"the database refused it ({MySqlAuthentication.ErrorText(failure.ServerError)})");
            await WriteAsync(client, failure.ServerError ?? MySqlWire.Error(1105, "HY000", $"gatehouse: {failure.Message}"), cancellationToken);
            return;
        }
        await using var upstream = session.Stream;
        _versions[database.Name] = session.ServerVersion;
        await WriteAsync(client, session.Ok, cancellationToken);

        // 5. Relay, judging each change of database and auditing statements, until either side ends or the certificate expires.
        var details = new Dictionary<string, string> { ["db_user"] = dbUser, ["db_name"] = dbName ?? "", ["arrival"] = connection.Facts.Arrival };
        await connection.AuditSessionAsync(AuditEventTypes.DbSessionStart, database.Resource, details, cancellationToken);
        var judge = new MySqlSessionJudge(connection, checker, database, dbUser, dbName, queryAudit, database.AuditQueries, logger);
        await using var gate = new MySqlCommandGate(client, judge, options.DbQueryAuditMaxLength);
        var outcome = await UpstreamRelay.PumpAsync(connection, gate, upstream, null, time, metrics, cancellationToken);
        ProxyLog.SessionEnded(logger, connection.Facts.ConnectionId, caller.User, $"{dbUser}@{database.Resource}/{judge.DbName}", outcome.BytesIn, outcome.BytesOut, outcome.How);
        // The session is over whatever happens to the request: its end is recorded even when the proxy is stopping.
        await connection.AuditSessionAsync(AuditEventTypes.DbSessionEnd, database.Resource, outcome.AddTo(details), CancellationToken.None);
    }

    /// <summary>Greets the client and reads its HandshakeResponse41: the handshake, or the sentence why it is refused
    /// (both null when the client left).</summary>
    private async Task<(MySqlClientHandshake? Handshake, string? Problem)> HandshakeAsync(Stream client, Database database, CancellationToken cancellationToken)
    {
        // A scramble without NUL bytes, as servers make it: some clients read it as a string. It is never checked — the
        // Gatehouse certificate is the login — but a client scrambles its password with it, so it is fresh each time.
        var scramble = RandomNumberGenerator.GetBytes(20);
        for (var i = 0; i < scramble.Length; i++) scramble[i] = (byte)(1 + scramble[i] % 127);
        var version = _versions.GetValueOrDefault(database.Name, DefaultVersion);
        await MySqlWire.WritePacketAsync(client, 0, MySqlWire.Greeting(version, (uint)Interlocked.Increment(ref _connectionIds), scramble,
            MySqlAuthentication.NativePassword), cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(HandshakeTimeout);
        MySqlPacket? packet;
        try
        {
            packet = await MySqlWire.ReadPacketAsync(client, MySqlClientHandshake.MaxLength, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no handshake response within {HandshakeTimeout.TotalSeconds:0} s");
        }
        catch (InvalidDataException e)
        {
            return (null, e.Message);
        }
        if (packet is not { } response) return (null, null);
        if (response.Sequence != 1) return (null, $"the handshake response has sequence id {response.Sequence}, not 1");
        var (handshake, error) = MySqlClientHandshake.Parse(response.Payload);
        if (handshake is null) return (null, error);
        foreach (var (what, name, max) in new[] { ("db user", handshake.User, 80), ("database name", handshake.Database ?? "", 64) })
            if (name.Length > max || name.Any(char.IsControl) || name.Length > 0 && string.IsNullOrWhiteSpace(name))
                return (null, $"the {what} '{UntrustedText.Show(name, 100)}' is not one MySQL keeps as it is (at most {max} characters, not blank, no control characters)");
        return (handshake, null);
    }

    /// <summary>Writes the packet that ends the connection phase: sequence id 2, after the client's response (1).</summary>
    private static async Task WriteAsync(Stream stream, byte[] payload, CancellationToken cancellationToken)
    {
        try
        {
            await MySqlWire.WritePacketAsync(stream, 2, payload, cancellationToken);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The client left; nothing to tell.
        }
    }
}
