using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Gatehouse.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    public async ValueTask<long> AppendAuditAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // Autocommit: when ExecuteScalar returns, the row is in the WAL and survives the process being killed.
        command.CommandText = """
            INSERT INTO audit_events (time, type, user_name, identity_source, cert_issuer, cert_serial, cert_sha256, source_ip, resource, decision, reason, details)
            VALUES ($time, $type, $user, $source, $issuer, $serial, $sha256, $ip, $resource, $decision, $reason, $details) RETURNING id
            """;
        command.Parameters.AddWithValue("$time", FormatTime(auditEvent.Time));
        command.Parameters.AddWithValue("$type", auditEvent.Type);
        command.Parameters.AddWithValue("$user", (object?)auditEvent.User ?? DBNull.Value);
        command.Parameters.AddWithValue("$source", (object?)auditEvent.IdentitySource ?? DBNull.Value);
        command.Parameters.AddWithValue("$issuer", (object?)auditEvent.CertificateIssuer ?? DBNull.Value);
        command.Parameters.AddWithValue("$serial", (object?)auditEvent.CertificateSerial ?? DBNull.Value);
        command.Parameters.AddWithValue("$sha256", (object?)auditEvent.CertificateSha256 ?? DBNull.Value);
        command.Parameters.AddWithValue("$ip", (object?)auditEvent.SourceIp ?? DBNull.Value);
        command.Parameters.AddWithValue("$resource", (object?)auditEvent.Resource ?? DBNull.Value);
        command.Parameters.AddWithValue("$decision", (object?)auditEvent.Decision ?? DBNull.Value);
        command.Parameters.AddWithValue("$reason", (object?)auditEvent.Reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$details", auditEvent.Details is null ? DBNull.Value : JsonSerializer.Serialize(auditEvent.Details));
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask<IReadOnlyList<AuditEvent>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, time, type, user_name, identity_source, cert_issuer, cert_serial, cert_sha256, source_ip, resource, decision, reason, details
            FROM audit_events
            WHERE ($since IS NULL OR time >= $since) AND ($type IS NULL OR type = $type) AND ($user IS NULL OR user_name = $user)
            ORDER BY id DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$since", query.Since is { } since ? FormatTime(since) : DBNull.Value);
        command.Parameters.AddWithValue("$type", (object?)query.Type ?? DBNull.Value);
        command.Parameters.AddWithValue("$user", (object?)query.User ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", query.Limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync(cancellationToken))
            events.Add(ReadAuditEvent(reader));
        return events;
    }

    private static AuditEvent ReadAuditEvent(SqliteDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return new AuditEvent(reader.GetInt64(0), ParseTime(reader.GetString(1)), reader.GetString(2), Text(3), Text(4), Text(5), Text(6), Text(7),
            Text(8), Text(9), Text(10), Text(11),
            Text(12) is { } details ? JsonSerializer.Deserialize<Dictionary<string, string>>(details) : null);
    }
}
