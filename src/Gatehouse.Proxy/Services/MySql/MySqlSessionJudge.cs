using Gatehouse.Access;
using Gatehouse.Access.Roles;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Gatehouse.Proxy.Services.Databases;

namespace Gatehouse.Proxy.Services.MySql;

/// <summary>Judges the commands of one relayed session: a change of database against db_names (as at the login), the
/// commands never passed on, and the statements the audit records — under the database the session is in now.</summary>
internal sealed class MySqlSessionJudge(ServiceConnection connection, AccessChecker checker, Database database, string dbUser, string? dbName,
    QueryAuditWriter queryAudit, bool auditQueries, ILogger logger) : IMySqlCommandJudge
{
    /// <summary>The database the session is in, as far as the proxy let it choose (null: none yet).</summary>
    public string? DbName { get; private set; } = dbName;

    public async ValueTask<string?> ChangeDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        var decision = checker.CheckDatabase(database.Name, database.Labels, dbUser, name);
        if (decision.Allowed)
        {
            DbName = name;
            return null;
        }
        var reason = $"{decision.Reason} (USE {UntrustedText.Show(name, 80)} was refused; the session stays in {DbName ?? "no database"})";
        await connection.AuditDecisionAsync(database.Resource, AuditWords.Outcome(false), reason, cancellationToken);
        ProxyLog.DatabaseAccessDenied(logger, connection.Caller.User, dbUser, database.Name, name, reason);
        return reason;
    }

    public async ValueTask<string> RefuseCommandAsync(byte command, CancellationToken cancellationToken)
    {
        var reason = command == 0x11
            ? $"a session stays the db user it was let in as ({dbUser}); to be another db user, open a new connection (gatehouse db connect {database.Name} --db-user OTHER)"
            : $"replication commands (0x{command:x2}) are not served through Gatehouse; connect to the database's own address for replication";
        await connection.AuditDecisionAsync(database.Resource, AuditWords.Outcome(false), reason, cancellationToken);
        ProxyLog.MySqlRefused(logger, connection.Facts.ConnectionId, connection.Caller.Client.ToString(), reason);
        return reason;
    }

    public void Statement(string protocol, string text, bool cut)
    {
        if (auditQueries) queryAudit.Statement(connection.Caller, database, dbUser, DbName ?? "", protocol, text, cut);
    }
}
