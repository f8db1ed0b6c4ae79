using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Storage.Postgres;

internal sealed partial class PostgresStore
{
    public async ValueTask<long> AppendAuditAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // Autocommit: when the command returns, the server has committed (and, with synchronous_commit on, flushed) the row.
        await using var command = new NpgsqlCommand("""
            INSERT INTO audit_events (time, type, user_name, identity_source, cert_issuer, cert_serial, cert_sha256, source_ip, resource, decision, reason, details)
            VALUES (@time, @type, @user, @source, @issuer, @serial, @sha256, @ip, @resource, @decision, @reason, @details) RETURNING id
            """, connection);
        Add(command, "time", NpgsqlDbType.TimestampTz, Utc(auditEvent.Time));
        Add(command, "type", NpgsqlDbType.Text, auditEvent.Type);
        Add(command, "user", NpgsqlDbType.Text, auditEvent.User);
        Add(command, "source", NpgsqlDbType.Text, auditEvent.IdentitySource);
        Add(command, "issuer", NpgsqlDbType.Text, auditEvent.CertificateIssuer);
        Add(command, "serial", NpgsqlDbType.Text, auditEvent.CertificateSerial);
        Add(command, "sha256", NpgsqlDbType.Text, auditEvent.CertificateSha256);
        Add(command, "ip", NpgsqlDbType.Text, auditEvent.SourceIp);
        Add(command, "resource", NpgsqlDbType.Text, auditEvent.Resource);
        Add(command, "decision", NpgsqlDbType.Text, auditEvent.Decision);
        Add(command, "reason", NpgsqlDbType.Text, auditEvent.Reason);
        Add(command, "details", NpgsqlDbType.Jsonb, auditEvent.Details is null ? null : JsonSerializer.Serialize(auditEvent.Details));
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask<IReadOnlyList<AuditEvent>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT id, time, type, user_name, identity_source, cert_issuer, cert_serial, cert_sha256, source_ip, resource, decision, reason, details
            FROM audit_events
            WHERE (@since IS NULL OR time >= @since) AND (@type IS NULL OR type = @type) AND (@user IS NULL OR user_name = @user)
            ORDER BY id DESC LIMIT CASE WHEN @limit < 0 THEN NULL ELSE @limit END -- as SQLite: a negative limit means none
            """, connection);
        Add(command, "since", NpgsqlDbType.TimestampTz, query.Since is { } since ? Utc(since) : null);
        Add(command, "type", NpgsqlDbType.Text, query.Type);
        Add(command, "user", NpgsqlDbType.Text, query.User);
        Add(command, "limit", NpgsqlDbType.Integer, query.Limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync(cancellationToken))
            events.Add(ReadAuditEvent(reader));
        return events;
    }

    private static AuditEvent ReadAuditEvent(NpgsqlDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return new AuditEvent(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), Text(3), Text(4), Text(5), Text(6),
            Text(7), Text(8), Text(9), Text(10), Text(11),
            Text(12) is { } details ? JsonSerializer.Deserialize<Dictionary<string, string>>(details) : null);
    }
}
