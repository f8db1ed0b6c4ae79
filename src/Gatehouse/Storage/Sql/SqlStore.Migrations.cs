using System.Data.Common;
using System.Globalization;

namespace Gatehouse.Storage.Sql;

/// <summary>The column types an engine spells the schema with (<see cref="SqlSchema"/>).</summary>
/// <param name="IdentityKey">An integer primary key the database numbers itself.</param>
/// <param name="IndexRevocationsByAuthority">Whether the first step also indexes revocations by authority: PostgreSQL's
/// first schema did, SQLite's did not, and a step that has run must not change.</param>
internal sealed record SqlColumnTypes(string Text, string Time, string Bytes, string Json, string Boolean, string Integer,
    string BigInt, string IdentityKey, bool IndexRevocationsByAuthority);

internal abstract partial class SqlStore
{
    protected abstract SqlColumnTypes ColumnTypes { get; }

    /// <summary>CREATE TABLE IF NOT EXISTS schema_migrations (version, applied_at).</summary>
    protected abstract string MigrationsTableSql { get; }

    /// <summary>Records that step <c>@version</c> is applied.</summary>
    protected abstract string RecordMigrationSql { get; }

    /// <summary>Called first in the migration transaction; keeps other processes out of the schema until it ends.</summary>
    protected abstract Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>Applies the schema steps this store has not had yet, in order, each once, all in one write transaction under
    /// the schema lock, so that two processes opening one store at once cannot both apply a step.</summary>
    /// <param name="subject">Names the store in the message about a schema newer than this Gatehouse.</param>
    protected async Task MigrateAsync(DbConnection connection, string subject, CancellationToken cancellationToken)
    {
        var steps = SqlSchema.Steps(ColumnTypes);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        // The lock comes first: even CREATE TABLE IF NOT EXISTS fails with a unique violation when two PostgreSQL sessions run it at once.
        await LockSchemaAsync(connection, transaction, cancellationToken);
        await using (var create = Command(connection, transaction, MigrationsTableSql))
            await create.ExecuteNonQueryAsync(cancellationToken);
        long current;
        await using (var query = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
            current = Convert.ToInt64(await query.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (current > steps.Count)
            throw new SetupException($"{subject}: the store has schema version {current}, newer than this Gatehouse knows ({steps.Count}); run a newer Gatehouse.");
        for (var version = (int)current + 1; version <= steps.Count; version++)
        {
            await using (var step = Command(connection, transaction, steps[version - 1]))
                await step.ExecuteNonQueryAsync(cancellationToken);
            await using var record = Command(connection, transaction, RecordMigrationSql);
            Add(record, "version", SqlType.Integer, version);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken); // releases the schema lock too
    }
}
