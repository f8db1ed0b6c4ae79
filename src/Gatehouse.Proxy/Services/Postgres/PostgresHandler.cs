using Gatehouse.Access;
using Gatehouse.Access.Roles;
using Gatehouse.Audit;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Gatehouse.Proxy.Services.Databases;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>
/// <c>gatehouse-postgres</c>: PostgreSQL databases (resources.databases, protocol postgres), reached through a local
/// proxy (<c>gatehouse proxy db</c>) or by plain psql straight to the one port (<see cref="INativeProtocol"/>). The proxy
/// reads the client's StartupMessage, lets the roles decide on the database user and name (db_labels, db_users,
/// db_names), opens the session upstream as that user — with the db client certificate, or with the configured password —
/// and then relays, auditing each statement. Refusals reach psql as an ErrorResponse it prints (SQLSTATE 28000).
/// </summary>
internal sealed class PostgresHandler(ProxyOptions options, RoleCatalog roles, DbClientCertificates certificates, PostgresCancels cancels,
    QueryAuditWriter queryAudit, TimeProvider time, GatehouseMetrics metrics, ILogger<PostgresHandler> logger) : IProtocolHandler, INativeProtocol
{
    private const string InvalidAuthorization = "28000", ProtocolViolation = "08P01", ConnectionFailure = "08006";
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, Database> _databases = DatabaseSessions.Of(options, Database.PostgresProtocol);

    public string Protocol => AlpnProtocols.Postgres;

    public async Task ServeAsync(ServiceConnection connection, CancellationToken cancellationToken)
    {
        // 1. Which database. A native client names it in its TLS server name: NAME.db.<public name>.
        if (await DatabaseSessions.AcceptAsync(connection, _databases, "PostgreSQL",
                "name the database in the host: host=NAME.db.<proxy name> (`gatehouse db config NAME` prints the connection string)",
                dbNameDefaultsToUser: true, roles, cancellationToken) is not { } accepted) return;
        var (database, checker) = accepted;

        // 2. The client's StartupMessage names the database user and name (or it cancels another session).
        Stream client = connection.Ping ? new PingFramedStream(connection.Tls, options.PingInterval, time) : connection.Tls;
        try
        {
            await ServeSessionAsync(connection, client, database, checker, cancellationToken);
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
        var startup = await ReadStartupAsync(client, cancellationToken);
        if (startup.Cancel is { } cancel)
        {
            await cancels.CancelAsync(cancel.ProcessId, cancel.SecretKey, cancellationToken);
            return;
        }
        if (startup.ClientLeft) return;
        if (startup.Error is { } error)
        {
            ProxyLog.PostgresRefused(logger, connection.Facts.ConnectionId, caller.Client.ToString(), error);
            await WriteAsync(client, PostgresWire.ErrorResponse(ProtocolViolation, error), cancellationToken);
            return;
        }
        var dbUser = startup.Parameter("user")!;
        var dbName = startup.Parameter("database") is { Length: > 0 } named ? named : dbUser;
        if (Unacceptable(startup, dbUser, dbName) is { } problem)
        {
            ProxyLog.PostgresRefused(logger, connection.Facts.ConnectionId, caller.Client.ToString(), problem);
            await WriteAsync(client, PostgresWire.ErrorResponse(ProtocolViolation, $"gatehouse: {problem}"), cancellationToken);
            return;
        }

        // 3. May they: the roles, and for a password database its one user.
        var details = new Dictionary<string, string> { ["db_user"] = dbUser, ["db_name"] = dbName, ["arrival"] = connection.Facts.Arrival };
        if (await DatabaseSessions.DecideAsync(connection, checker, database, dbUser, dbName, logger, cancellationToken) is { } reason)
        {
            await WriteAsync(client, PostgresWire.ErrorResponse(InvalidAuthorization, $"gatehouse: {reason}"), cancellationToken);
            return;
        }

        // 4. The session upstream, as that user.
        var (session, failure) = await PostgresUpstream.OpenAsync(database, dbUser, startup.Parameters!, certificates, cancellationToken);
        if (session is null)
        {
            ProxyLog.DatabaseSessionFailed(logger, caller.User, database.Name, dbUser, failure!.ServerError is null ? failure.Message : "the database refused it");
            await WriteAsync(client, failure.ServerError ?? PostgresWire.ErrorResponse(ConnectionFailure, $"gatehouse: {failure.Message}"), cancellationToken);
            return;
        }
        await using var upstream = session.Stream;
        using var cancelKey = cancels.Register(database, session.BackendKey);
        await WriteGreetingAsync(client, session, cancelKey, cancellationToken);

        // 5. Relay, auditing statements, until either side ends or the certificate expires.
        await connection.AuditSessionAsync(AuditEventTypes.DbSessionStart, database.Resource, details, cancellationToken);
        var scanner = database.AuditQueries ? new PostgresQueryScanner(options.DbQueryAuditMaxLength,
            (kind, text, cut) => queryAudit.Statement(caller, database, dbUser, dbName, kind == 'Q' ? "simple" : "extended", text, cut)) : null;
        var outcome = await UpstreamRelay.PumpAsync(connection, client, upstream, scanner, time, metrics, cancellationToken);
        ProxyLog.SessionEnded(logger, connection.Facts.ConnectionId, caller.User, $"{dbUser}@{database.Resource}/{dbName}", outcome.BytesIn, outcome.BytesOut, outcome.How);
        // The session is over whatever happens to the request: its end is recorded even when the proxy is stopping.
        await connection.AuditSessionAsync(AuditEventTypes.DbSessionEnd, database.Resource, outcome.AddTo(details), CancellationToken.None);
    }

    /// <summary>What Gatehouse does not pass on from a StartupMessage, in a sentence; null when it is fine.</summary>
    private static string? Unacceptable(PostgresStartup startup, string dbUser, string dbName)
    {
        // PostgreSQL keeps names of up to 63 bytes (NAMEDATALEN - 1) and would cut longer ones silently: the user the
        // roles judged must be the user the database sees.
        foreach (var (what, name) in new[] { ("db user", dbUser), ("database name", dbName) })
            if (System.Text.Encoding.UTF8.GetByteCount(name) > 63 || name.Any(char.IsControl))
                return $"the {what} '{UntrustedText.Show(name, 80)}' is not one PostgreSQL keeps as it is (at most 63 bytes, no control characters)";
        // A replication connection is no session on a database: db_names could not judge it.
        if (startup.Parameter("replication") is { } replication && replication is not ("false" or "off" or "no" or "0"))
            return "replication connections are not served through Gatehouse; connect to the database's own address for replication";
        return null;
    }

    private static async Task<PostgresStartup> ReadStartupAsync(Stream client, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartupTimeout);
        try
        {
            return await PostgresStartup.ReadAsync(client, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PostgresStartup(null, null, $"no startup packet within {StartupTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>AuthenticationOk, then what the database said (parameter statuses, notices), the proxy's own cancel key,
    /// and the database's ReadyForQuery.</summary>
    private static async Task WriteGreetingAsync(Stream client, PostgresSession session, PostgresCancels.Registration cancelKey,
        CancellationToken cancellationToken)
    {
        await client.WriteAsync(PostgresWire.AuthenticationOk(), cancellationToken);
        foreach (var message in session.Greeting.Take(session.Greeting.Count - 1))
            await client.WriteAsync(message, cancellationToken);
        await client.WriteAsync(PostgresWire.BackendKeyData(cancelKey.ProcessId, cancelKey.SecretKey), cancellationToken);
        await client.WriteAsync(session.Greeting[^1], cancellationToken);
        await client.FlushAsync(cancellationToken);
    }

    public async Task RefuseNativelyAsync(Stream tls, DialAnswer refusal, CancellationToken cancellationToken)
    {
        // psql sends its StartupMessage right after the handshake and reads the answer after it: read it first, so the
        // error is not lost to a reset of a connection closed with unread bytes.
        var startup = await ReadStartupAsync(tls, cancellationToken);
        if (startup.Cancel is not null) return;
        await WriteAsync(tls, PostgresWire.ErrorResponse(InvalidAuthorization, $"gatehouse: {refusal.Error}"), cancellationToken);
    }

    private static async Task WriteAsync(Stream stream, byte[] message, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteAsync(message, cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The client left; nothing to tell.
        }
    }
}
