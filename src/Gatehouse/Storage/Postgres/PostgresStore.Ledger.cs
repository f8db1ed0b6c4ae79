using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Storage.Postgres;

/// <summary>Authorities, issued certificates, revocations and CRL numbers.</summary>
internal sealed partial class PostgresStore
{
    public async ValueTask<StoredAuthority?> GetAuthorityAsync(string kind, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadAuthorityAsync(connection, kind, cancellationToken);
    }

    private static async Task<StoredAuthority?> ReadAuthorityAsync(NpgsqlConnection connection, string kind, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT kind, key_family, public_part, sealed_key, created_at FROM authorities WHERE kind = @kind", connection);
        command.Parameters.AddWithValue("kind", kind);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new StoredAuthority(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3),
            reader.GetFieldValue<DateTimeOffset>(4));
    }

    public async ValueTask<StoredAuthority> AddAuthorityIfAbsentAsync(StoredAuthority authority, CancellationToken cancellationToken)
    {
        await WriteAsync(async (connection, transaction) =>
        {
            // ON CONFLICT waits for a concurrent inserter of the same kind to commit, then does nothing.
            await using var command = new NpgsqlCommand("""
                INSERT INTO authorities (kind, key_family, public_part, sealed_key, created_at)
                VALUES (@kind, @family, @public, @sealed, @created) ON CONFLICT (kind) DO NOTHING
                """, connection, transaction);
            command.Parameters.AddWithValue("kind", authority.Kind);
            command.Parameters.AddWithValue("family", authority.KeyFamily);
            command.Parameters.AddWithValue("public", authority.PublicPart);
            command.Parameters.AddWithValue("sealed", authority.SealedPrivateKey);
            command.Parameters.AddWithValue("created", Utc(authority.CreatedAt));
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (added, added);
        }, cancellationToken);
        // Read after commit, in a new statement: whoever won, ours or a concurrent first start, is visible now.
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadAuthorityAsync(connection, authority.Kind, cancellationToken)
            ?? throw new InvalidOperationException($"authority '{authority.Kind}' vanished right after it was stored");
    }

    public async ValueTask RecordIssuedAsync(IssuedCertificate certificate, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO issued_certificates (serial, authority, usage, subject, not_before, not_after, issued_at)
            VALUES (@serial, @authority, @usage, @subject, @nb, @na, @at)
            """, connection);
        command.Parameters.AddWithValue("serial", certificate.Serial);
        command.Parameters.AddWithValue("authority", certificate.Authority);
        command.Parameters.AddWithValue("usage", certificate.Usage);
        command.Parameters.AddWithValue("subject", certificate.Subject);
        command.Parameters.AddWithValue("nb", Utc(certificate.NotBefore));
        command.Parameters.AddWithValue("na", Utc(certificate.NotAfter));
        command.Parameters.AddWithValue("at", Utc(certificate.IssuedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<IssuedCertificate?> FindIssuedAsync(string serial, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT serial, authority, usage, subject, not_before, not_after, issued_at FROM issued_certificates WHERE serial = @serial", connection);
        command.Parameters.AddWithValue("serial", serial);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new IssuedCertificate(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6));
    }

    public async ValueTask<RevokeOutcome> RevokeAsync(StoredRevocation revocation, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO revocations (serial, authority, reason, revoked_at) VALUES (@serial, @authority, @reason, @at)
                ON CONFLICT (serial) DO NOTHING
                """, connection, transaction);
            command.Parameters.AddWithValue("serial", revocation.Serial);
            command.Parameters.AddWithValue("authority", revocation.Authority);
            command.Parameters.AddWithValue("reason", revocation.Reason);
            command.Parameters.AddWithValue("at", Utc(revocation.RevokedAt));
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (added ? RevokeOutcome.Revoked : RevokeOutcome.AlreadyRevoked, added);
        }, cancellationToken);

    public async ValueTask<IReadOnlyList<StoredRevocation>> ListRevocationsAsync(string authority, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT serial, authority, reason, revoked_at FROM revocations WHERE authority = @authority ORDER BY revoked_at, serial COLLATE \"C\"",
            connection);
        command.Parameters.AddWithValue("authority", authority);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredRevocation>();
        while (await reader.ReadAsync(cancellationToken))
            list.Add(new StoredRevocation(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3)));
        return list;
    }

    public async ValueTask<long> NextCrlNumberAsync(string authority, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // One statement: the upsert locks the row, so concurrent callers (from any proxy) queue and each gets its own number.
        await using var command = new NpgsqlCommand("""
            INSERT INTO crl_numbers (authority, last_number) VALUES (@authority, 1)
            ON CONFLICT (authority) DO UPDATE SET last_number = crl_numbers.last_number + 1
            RETURNING last_number
            """, connection);
        Add(command, "authority", NpgsqlDbType.Text, authority);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
