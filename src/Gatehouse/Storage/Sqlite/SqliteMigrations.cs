using Microsoft.Data.Sqlite;

namespace Gatehouse.Storage.Sqlite;

/// <summary>Schema steps, applied in order on open; each runs once, inside a write transaction, so two
/// processes opening the same file at once cannot both apply a step.</summary>
internal static class SqliteMigrations
{
    private static readonly string[] Steps =
    [
        """
        CREATE TABLE authorities (
            kind TEXT PRIMARY KEY,
            key_family TEXT NOT NULL,
            public_part TEXT NOT NULL,
            sealed_key BLOB NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE issued_certificates (
            serial TEXT PRIMARY KEY,
            authority TEXT NOT NULL,
            usage TEXT NOT NULL,
            subject TEXT NOT NULL,
            not_before TEXT NOT NULL,
            not_after TEXT NOT NULL,
            issued_at TEXT NOT NULL);
        CREATE TABLE revocations (
            serial TEXT PRIMARY KEY,
            authority TEXT NOT NULL,
            reason INTEGER NOT NULL,
            revoked_at TEXT NOT NULL);
        CREATE TABLE crl_numbers (
            authority TEXT PRIMARY KEY,
            last_number INTEGER NOT NULL);
        """,
        """
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            roles TEXT NOT NULL,
            traits TEXT NOT NULL,
            password_hash TEXT,
            sealed_totp BLOB,
            locked INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL);
        CREATE TABLE login_failures (
            user_name TEXT NOT NULL,
            failed_at TEXT NOT NULL);
        CREATE INDEX login_failures_by_user ON login_failures (user_name, failed_at);
        CREATE TABLE roles (
            name TEXT PRIMARY KEY,
            definition TEXT NOT NULL,
            updated_at TEXT NOT NULL);
        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            type TEXT NOT NULL,
            user_name TEXT,
            identity_source TEXT,
            cert_issuer TEXT,
            cert_serial TEXT,
            cert_sha256 TEXT,
            source_ip TEXT,
            resource TEXT,
            decision TEXT,
            reason TEXT,
            details TEXT);
        CREATE INDEX audit_events_by_time ON audit_events (time);
        CREATE TABLE revision (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL);
        INSERT INTO revision (id, value) VALUES (1, 1);
        """,
        // Issue 11: the TOTP steps each user has used, so a code is accepted once.
        """
        CREATE TABLE totp_used_steps (
            user_name TEXT NOT NULL,
            step INTEGER NOT NULL,
            PRIMARY KEY (user_name, step));
        CREATE INDEX totp_used_steps_by_step ON totp_used_steps (step);
        """,
        // Issue 11: a login attempt is counted when it starts; while in progress its row carries the attempt's id.
        "ALTER TABLE login_failures ADD COLUMN attempt TEXT",
    ];

    public static async Task ApplyAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // BEGIN IMMEDIATE: take the write lock before reading the version, so concurrent openers serialise here.
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var create = connection.CreateCommand())
        {
            create.Transaction = transaction;
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        long current;
        await using (var query = connection.CreateCommand())
        {
            query.Transaction = transaction;
            query.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
            current = (long)(await query.ExecuteScalarAsync(cancellationToken))!;
        }
        if (current > Steps.Length)
            throw new SetupException($"{connection.DataSource}: the store has schema version {current}, newer than this Gatehouse knows ({Steps.Length}); run a newer Gatehouse.");
        for (var version = (int)current + 1; version <= Steps.Length; version++)
        {
            await using var step = connection.CreateCommand();
            step.Transaction = transaction;
            step.CommandText = Steps[version - 1] + ";INSERT INTO schema_migrations (version, applied_at) VALUES ($v, datetime('now'))";
            step.Parameters.AddWithValue("$v", version);
            await step.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
