using Npgsql;

namespace Gatehouse.Storage.Postgres;

/// <summary>Schema steps, applied in order on open; each runs once. Several proxies may start at once against one
/// database, so the whole check-and-apply runs under one transaction-scoped advisory lock.</summary>
internal static class PostgresMigrations
{
    /// <summary>Any fixed 64-bit number works; this is "GATEHOUS" in ASCII so it reads as ours in pg_locks.</summary>
    private const long AdvisoryLockKey = 0x4741_5445_484F_5553;

    private static readonly string[] Steps =
    [
        """
        CREATE TABLE authorities (
            kind text PRIMARY KEY,
            key_family text NOT NULL,
            public_part text NOT NULL,
            sealed_key bytea NOT NULL,
            created_at timestamptz NOT NULL);
        CREATE TABLE issued_certificates (
            serial text PRIMARY KEY,
            authority text NOT NULL,
            usage text NOT NULL,
            subject text NOT NULL,
            not_before timestamptz NOT NULL,
            not_after timestamptz NOT NULL,
            issued_at timestamptz NOT NULL);
        CREATE TABLE revocations (
            serial text PRIMARY KEY,
            authority text NOT NULL,
            reason integer NOT NULL,
            revoked_at timestamptz NOT NULL);
        CREATE INDEX revocations_by_authority ON revocations (authority, revoked_at, serial);
        CREATE TABLE crl_numbers (
            authority text PRIMARY KEY,
            last_number bigint NOT NULL);
        """,
        """
        CREATE TABLE users (
            name text PRIMARY KEY,
            roles jsonb NOT NULL,
            traits jsonb NOT NULL,
            password_hash text,
            sealed_totp bytea,
            locked boolean NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL);
        CREATE TABLE login_failures (
            user_name text NOT NULL,
            failed_at timestamptz NOT NULL);
        CREATE INDEX login_failures_by_user ON login_failures (user_name, failed_at);
        CREATE TABLE roles (
            name text PRIMARY KEY,
            definition text NOT NULL,
            updated_at timestamptz NOT NULL);
        CREATE TABLE audit_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time timestamptz NOT NULL,
            type text NOT NULL,
            user_name text,
            identity_source text,
            cert_issuer text,
            cert_serial text,
            cert_sha256 text,
            source_ip text,
            resource text,
            decision text,
            reason text,
            details jsonb);
        CREATE INDEX audit_events_by_time ON audit_events (time);
        CREATE TABLE revision (
            id integer PRIMARY KEY CHECK (id = 1),
            value bigint NOT NULL);
        INSERT INTO revision (id, value) VALUES (1, 1);
        """,
        // Issue 11: the TOTP steps each user has used, so a code is accepted once, whichever proxy it reaches.
        """
        CREATE TABLE totp_used_steps (
            user_name text NOT NULL,
            step bigint NOT NULL,
            PRIMARY KEY (user_name, step));
        CREATE INDEX totp_used_steps_by_step ON totp_used_steps (step);
        """,
        // Issue 11: a login attempt is counted when it starts; while in progress its row carries the attempt's id.
        "ALTER TABLE login_failures ADD COLUMN attempt text",
    ];

    public static int LatestVersion => Steps.Length;

    public static async Task ApplyAsync(NpgsqlConnection connection, string description, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The lock comes first: even CREATE TABLE IF NOT EXISTS fails with a unique violation when two sessions run it at once.
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
        await ExecuteAsync(connection, transaction,
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            cancellationToken);
        long current;
        await using (var query = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", connection, transaction))
            current = Convert.ToInt64(await query.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        if (current > Steps.Length)
            throw new SetupException($"{description}: the store has schema version {current}, newer than this Gatehouse knows ({Steps.Length}); run a newer Gatehouse.");
        for (var version = (int)current + 1; version <= Steps.Length; version++)
        {
            await ExecuteAsync(connection, transaction, Steps[version - 1], cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (version) VALUES (@v)", connection, transaction);
            record.Parameters.AddWithValue("v", version);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken); // releases the advisory lock too
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
