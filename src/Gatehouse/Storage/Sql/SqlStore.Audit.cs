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
        (long)(await ScalarAsync(InsertAuditSql, command => BindAudit(command, auditEvent), cancellationToken))!;

    public async ValueTask<IReadOnlyList<long>> AppendAuditBatchAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
    {
        // One transaction, one commit (one fsync) for all: what lets a busy database session's statements be recorded
        // as fast as they come.
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var ids = new List<long>(auditEvents.Count);
        // One command for the batch: the statement is prepared once and run with each event's values (a command per event
        // parsed the INSERT again for every statement a database session audits).
        await using var command = Command(connection, transaction, InsertAuditSql);
        foreach (var auditEvent in auditEvents)
        {
            command.Parameters.Clear();
            BindAudit(command, auditEvent);
            ids.Add((long)(await command.ExecuteScalarAsync(cancellationToken))!);
        }
        await transaction.CommitAsync(cancellationToken);
        return ids;
    }

    private void BindAudit(DbCommand command, AuditEvent auditEvent)
    {
        Add(command, "time", SqlType.Time, auditEvent.Time);
        Add(command, "type", SqlType.Text, auditEvent.Type);
        AddOptional(command, "user", SqlType.Text, auditEvent.User);
        AddOptional(command, "source", SqlType.Text, auditEvent.IdentitySource);
        AddOptional(command, "issuer", SqlType.Text, auditEvent.CertificateIssuer);
        AddOptional(command, "serial", SqlType.Text, auditEvent.CertificateSerial);
        AddOptional(command, "sha256", SqlType.Text, auditEvent.CertificateSha256);
        AddOptional(command, "ip", SqlType.Text, auditEvent.SourceIp);
        AddOptional(command, "resource", SqlType.Text, auditEvent.Resource);
        AddOptional(command, "decision", SqlType.Text, auditEvent.Decision);
        AddOptional(command, "reason", SqlType.Text, auditEvent.Reason);
        AddOptional(command, "details", SqlType.Json, auditEvent.Details is null ? null : JsonSerializer.Serialize(auditEvent.Details));
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
