using System.Data.Common;

namespace Gatehouse.Storage.Sql;

/// <summary>How a value is kept: the engine decides the column type and how the value is bound and read back.</summary>
internal enum SqlType { Text, Integer, BigInt, Bytes, Boolean, Time, Json }

/// <summary>
/// The one ADO.NET implementation of <see cref="IStore"/>: every query and every row mapping is written here, once. An
/// engine (<c>Sqlite/</c>, <c>Postgres/</c>) says only what truly differs: how to connect, how a value is bound and read
/// (time as text in SQLite, timestamptz in PostgreSQL), which collation sorts by bytes, how writers are serialised, and
/// how a change is announced to other proxies.
/// </summary>
internal abstract partial class SqlStore : IStore
{
    public abstract string Description { get; }

    public abstract ValueTask DisposeAsync();

    /// <summary>A collation name that sorts by bytes whatever the database's locale: user and role lists read the same
    /// from every engine.</summary>
    protected abstract string ByteOrder { get; }

    protected abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Begins a transaction that is going to write.</summary>
    protected abstract ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Serialises the login attempts of one user (from any proxy) until <paramref name="transaction"/> ends, so a
    /// count of attempts cannot go stale before the insert it decides.</summary>
    protected abstract Task LockLoginAttemptsAsync(DbConnection connection, DbTransaction transaction, string user,
        CancellationToken cancellationToken);

    /// <summary>Raises the single row of the revision table by one (and, where the engine can, tells listening proxies).</summary>
    protected abstract string RaiseRevisionSql { get; }

    /// <summary>Sets the parameter's value (and, where the engine needs it, its type) for a value of <paramref name="type"/>.</summary>
    protected abstract void Bind(DbParameter parameter, SqlType type, object? value);

    protected abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    /// <summary>Runs a change in a write transaction that also raises the revision when <paramref name="change"/> says it changed something.</summary>
    private async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<(T Result, bool Changed)>> change, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        var (result, changed) = await change(connection, transaction);
        if (changed)
        {
            // Inside the transaction of the change it announces: the new value becomes visible only when that commits.
            await using var raise = Command(connection, transaction, RaiseRevisionSql);
            await raise.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Runs one statement on a connection of its own, in autocommit: when it returns, what it changed is committed.</summary>
    private async Task<T> RunAsync<T>(string sql, Action<DbCommand> parameters, Func<DbCommand, Task<T>> run, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, sql);
        parameters(command);
        return await run(command);
    }

    private Task<int> ExecuteAsync(string sql, Action<DbCommand> parameters, CancellationToken cancellationToken) =>
        RunAsync(sql, parameters, command => command.ExecuteNonQueryAsync(cancellationToken), cancellationToken);

    private Task<object?> ScalarAsync(string sql, Action<DbCommand> parameters, CancellationToken cancellationToken) =>
        RunAsync(sql, parameters, command => command.ExecuteScalarAsync(cancellationToken), cancellationToken);

    private Task<List<T>> ReadAllAsync<T>(string sql, Action<DbCommand> parameters, Func<DbDataReader, T> read,
        CancellationToken cancellationToken) =>
        RunAsync(sql, parameters, command => ReadRowsAsync(command, read, cancellationToken), cancellationToken);

    /// <summary>The row of a primary-key lookup, or null.</summary>
    private async Task<T?> ReadOneAsync<T>(string sql, Action<DbCommand> parameters, Func<DbDataReader, T> read,
        CancellationToken cancellationToken) where T : class =>
        (await ReadAllAsync(sql, parameters, read, cancellationToken)).FirstOrDefault();

    private static async Task<List<T>> ReadRowsAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken)) rows.Add(read(reader));
        return rows;
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>Adds <c>@<paramref name="name"/></c> (both drivers take that spelling) for a value its column requires. Null
    /// is the caller's mistake, refused here: SQLite would store it even in a TEXT primary key.</summary>
    protected void Add(DbCommand command, string name, SqlType type, object value) =>
        AddOptional(command, name, type, value ?? throw new ArgumentNullException(name, $"@{name} needs a value"));

    /// <summary>Adds <c>@<paramref name="name"/></c>; null is SQL NULL.</summary>
    protected void AddOptional(DbCommand command, string name, SqlType type, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        Bind(parameter, type, value);
        command.Parameters.Add(parameter);
    }

    private static string? NullableText(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static void NoParameters(DbCommand command)
    {
    }
}
