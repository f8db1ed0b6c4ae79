using System.Data.Common;
using Gatehouse.Storage.Sql;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Storage.Postgres;

/// <summary>What <see cref="SqlStore"/> asks of an engine, as PostgreSQL does it: typed parameters, timestamptz, the "C"
/// collation, and advisory locks where read committed alone would let two proxies race.</summary>
internal sealed partial class PostgresStore
{
    /// <summary>Any fixed 64-bit number works; this is "GATEHOUS" in ASCII so it reads as ours in pg_locks.</summary>
    private const long SchemaLockKey = 0x4741_5445_484F_5553;

    /// <summary>Any fixed pair works for the two-key advisory lock (a key space apart from the schema's one-key lock); "LOGI".</summary>
    private const int LoginAttemptLockClass = 0x4C4F_4749;

    /// <summary>Read committed: what must not go stale between a read and a write takes an advisory lock.</summary>
    protected override ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        connection.BeginTransactionAsync(cancellationToken);

    protected override async Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"SELECT pg_advisory_xact_lock({SchemaLockKey})");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Under read committed a count-then-insert lets two proxies both see limit − 1; a transaction-scoped lock per
    /// user name (hashed: a collision only makes two users wait for each other) makes it one step.</summary>
    protected override async Task LockLoginAttemptsAsync(DbConnection connection, DbTransaction transaction, string user,
        CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@class, hashtext(@user))");
        Add(command, "class", SqlType.Integer, LoginAttemptLockClass);
        Add(command, "user", SqlType.Text, user);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.</summary>
    protected override string ByteOrder => "\"C\"";

    protected override SqlColumnTypes ColumnTypes { get; } = new(Text: "text", Time: "timestamptz", Bytes: "bytea", Json: "jsonb",
        Boolean: "boolean", Integer: "integer", BigInt: "bigint", IdentityKey: "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        IndexRevocationsByAuthority: true);

    protected override string MigrationsTableSql =>
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())";

    protected override string RecordMigrationSql => "INSERT INTO schema_migrations (version) VALUES (@version)";

    /// <summary>Every parameter typed: a null value must still carry its type, or PostgreSQL cannot plan "@p IS NULL".</summary>
    protected override void Bind(DbParameter parameter, SqlType type, object? value)
    {
        ((NpgsqlParameter)parameter).NpgsqlDbType = type switch
        {
            SqlType.Text => NpgsqlDbType.Text,
            SqlType.Integer => NpgsqlDbType.Integer,
            SqlType.BigInt => NpgsqlDbType.Bigint,
            SqlType.Bytes => NpgsqlDbType.Bytea,
            SqlType.Boolean => NpgsqlDbType.Boolean,
            SqlType.Time => NpgsqlDbType.TimestampTz,
            SqlType.Json => NpgsqlDbType.Jsonb,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        // Npgsql writes only UTC offsets to timestamptz.
        parameter.Value = value is DateTimeOffset time ? time.ToUniversalTime() : value ?? DBNull.Value;
    }

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);
}
