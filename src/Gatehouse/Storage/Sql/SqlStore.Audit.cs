using System.Data.Common;
using System.Text.Json;

namespace Gatehouse.Storage.Sql;

internal abstract partial class SqlStore
{
    private const string InsertAuditSql = """
        INSERT INTO audit_events (time, type, user_name, identity_source, cert_issuer, cert_serial, cert_sha256, source_ip, resource, decision, reason, details)
        VALUES (@time, @type, @user, @source, @issuer, @serial, @sha256, @ip, @resource, @decision, @reason, @details) RETURNING id
        """;

    public async ValueTask<long> AppendAuditAsync(AuditEvent auditEvent, CancellationToken cancellationToken) =>
        // Autocommit: when the statement returns, the row is committed — in SQLite's WAL, or by a PostgreSQL server (flushed,
        // with synchronous_commit on) — and survives the process being killed.
        (long)(await ScalarAsync(InsertAuditSql, command => BindAudit(AuditParameters(command), auditEvent, new AuditDetailsJson()), cancellationToken))!;

    public async ValueTask<IReadOnlyList<long>> AppendAuditBatchAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
    {
        // One transaction, one commit (one fsync) for all: what lets a busy database session's statements be recorded
        // as fast as they come.
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var ids = new List<long>(auditEvents.Count);
        // One command and one set of parameters for the batch: the statement is prepared once and each event only sets
        // the values (a command per event parsed the INSERT again; new parameters per event were made, named and bound
        // anew for every statement a database session audits — docs/benchmarks.md, "Issue 17: the database rows").
        await using var command = Command(connection, transaction, InsertAuditSql);
        var parameters = AuditParameters(command);
        var json = new AuditDetailsJson();
        foreach (var auditEvent in auditEvents)
        {
            BindAudit(parameters, auditEvent, json);
            ids.Add((long)(await command.ExecuteScalarAsync(cancellationToken))!);
        }
        await transaction.CommitAsync(cancellationToken);
        return ids;
    }

    /// <summary>The INSERT's parameters, in <see cref="BindAudit"/>'s order, added to <paramref name="command"/> once.</summary>
    private static DbParameter[] AuditParameters(DbCommand command)
    {
        string[] names = ["@time", "@type", "@user", "@source", "@issuer", "@serial", "@sha256", "@ip", "@resource", "@decision", "@reason", "@details"];
        var parameters = new DbParameter[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = names[i];
            command.Parameters.Add(parameters[i]);
        }
        return parameters;
    }

    private void BindAudit(DbParameter[] parameters, AuditEvent auditEvent, AuditDetailsJson json)
    {
        if (auditEvent.Type is null) throw new ArgumentNullException(nameof(auditEvent), "@type needs a value");
        Bind(parameters[0], SqlType.Time, auditEvent.Time);
        Bind(parameters[1], SqlType.Text, auditEvent.Type);
        Bind(parameters[2], SqlType.Text, auditEvent.User);
        Bind(parameters[3], SqlType.Text, auditEvent.IdentitySource);
        Bind(parameters[4], SqlType.Text, auditEvent.CertificateIssuer);
        Bind(parameters[5], SqlType.Text, auditEvent.CertificateSerial);
        Bind(parameters[6], SqlType.Text, auditEvent.CertificateSha256);
        Bind(parameters[7], SqlType.Text, auditEvent.SourceIp);
        Bind(parameters[8], SqlType.Text, auditEvent.Resource);
        Bind(parameters[9], SqlType.Text, auditEvent.Decision);
        Bind(parameters[10], SqlType.Text, auditEvent.Reason);
        Bind(parameters[11], SqlType.Json, auditEvent.Details is null ? null : json.Write(auditEvent.Details));
    }

    public async ValueTask<IReadOnlyList<AuditEvent>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken) =>
        await ReadAllAsync("""
            SELECT id, time, type, user_name, identity_source, cert_issuer, cert_serial, cert_sha256, source_ip, resource, decision, reason, details
            FROM audit_events
            WHERE (@since IS NULL OR time >= @since) AND (@type IS NULL OR type = @type) AND (@user IS NULL OR user_name = @user)
            ORDER BY id DESC LIMIT @limit
            """,
            command =>
            {
                AddOptional(command, "since", SqlType.Time, query.Since);
                AddOptional(command, "type", SqlType.Text, query.Type);
                AddOptional(command, "user", SqlType.Text, query.User);
                // A negative limit means none (SQLite's rule; PostgreSQL would refuse it).
                Add(command, "limit", SqlType.BigInt, query.Limit < 0 ? long.MaxValue : query.Limit);
            },
            ReadAuditEvent,
            cancellationToken);

    private AuditEvent ReadAuditEvent(DbDataReader reader) =>
        new(reader.GetInt64(0), ReadTime(reader, 1), reader.GetString(2), NullableText(reader, 3), NullableText(reader, 4),
            NullableText(reader, 5), NullableText(reader, 6), NullableText(reader, 7), NullableText(reader, 8), NullableText(reader, 9),
            NullableText(reader, 10), NullableText(reader, 11),
            NullableText(reader, 12) is { } details ? JsonSerializer.Deserialize<Dictionary<string, string>>(details) : null);
}
