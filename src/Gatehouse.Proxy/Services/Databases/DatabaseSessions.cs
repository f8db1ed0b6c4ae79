using Gatehouse.Access;
using Gatehouse.Access.Roles;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services.Databases;

/// <summary>
/// The steps every database protocol takes alike: which database a dial names (and a probe's answer), and whether the
/// roles let the caller in as a db user on a db name — audited, and logged when refused.
/// </summary>
internal static class DatabaseSessions
{
    /// <summary>The databases of one protocol, by name as DNS compares names (plain psql names one in its TLS server name).</summary>
    public static Dictionary<string, Database> Of(ProxyOptions options, string protocol) =>
        options.Databases.Where(d => d.Protocol == protocol).ToDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Step 1 of a session: the database the dial names and the caller's roles, with the dial answered ok; null
    /// when the dial was answered here (no such database, or a probe).</summary>
    /// <param name="what">The protocol in the user's words, e.g. "PostgreSQL".</param>
    /// <param name="unnamed">What to say when no database is named.</param>
    /// <param name="dbNameDefaultsToUser">A session without a db name gets the db user's (PostgreSQL); else it has none
    /// (MySQL), and a probe without one judges the db user alone.</param>
    public static async Task<(Database Database, AccessChecker Checker)?> AcceptAsync(ServiceConnection connection, IReadOnlyDictionary<string, Database> databases,
        string what, string unnamed, bool dbNameDefaultsToUser, RoleCatalog roles, CancellationToken cancellationToken)
    {
        var request = connection.Request;
        if (!databases.TryGetValue(request.Target, out var database))
        {
            await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.NotFound, request.Target.Length == 0 ? unnamed
                : $"there is no {what} database named '{request.Target}' behind this proxy; `gatehouse ls dbs` lists the ones you may reach"),
                cancellationToken);
            return null;
        }
        var checker = await roles.CheckerForAsync(connection.Caller.Identity, cancellationToken);
        if (request.Probe == true)
        {
            // A probe names the db user (and name) when the client knows them; else only the database is judged.
            var probe = (request.DbUser, request.DbName ?? (dbNameDefaultsToUser ? request.DbUser : null)) switch
            {
                ({ } user, { } name) => checker.CheckDatabase(database.Name, database.Labels, user, name),
                ({ } user, null) => checker.CheckDatabaseUser(database.Name, database.Labels, user),
                _ => checker.CheckDatabaseLabels(database.Name, database.Labels),
            };
            await connection.AnswerAsync(probe.Allowed ? DialAnswer.Accepted : DialAnswer.Refuse(DialCodes.Denied, probe.Reason), cancellationToken);
            return null;
        }
        await connection.AnswerAsync(DialAnswer.Accepted, cancellationToken);
        return (database, checker);
    }

    /// <summary>Whether the roles let the caller log in as <paramref name="dbUser"/> on <paramref name="dbName"/> (null: no
    /// database named yet, as MySQL allows), and for a password database whether it is its one user. Audited; a refusal
    /// is logged and its sentence returned, null when allowed.</summary>
    public static async Task<string?> DecideAsync(ServiceConnection connection, AccessChecker checker, Database database, string dbUser, string? dbName,
        ILogger logger, CancellationToken cancellationToken)
    {
        var decision = dbName is null
            ? checker.CheckDatabaseUser(database.Name, database.Labels, dbUser)
            : checker.CheckDatabase(database.Name, database.Labels, dbUser, dbName);
        var reason = decision.Allowed && database.Auth is PasswordDatabaseAuth password && dbUser != password.User
            ? $"database '{database.Name}' is reached as db user '{password.User}' only (it logs in with that user's password); connect as {password.User}"
            : decision.Allowed ? null : decision.Reason;
        await connection.AuditDecisionAsync(database.Resource, AuditWords.Outcome(reason is null), reason ?? decision.Reason, cancellationToken);
        if (reason is not null) ProxyLog.DatabaseAccessDenied(logger, connection.Caller.User, dbUser, database.Name, dbName ?? "(none)", reason);
        return reason;
    }
}
