using Microsoft.Data.Sqlite;

namespace Gatehouse.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Raises the cluster revision; call inside the transaction of the change it announces.</summary>
    private static async Task BumpRevisionAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE revision SET value = value + 1 WHERE id = 1";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs a change in a write transaction that also raises the revision when <paramref name="change"/> says it changed something.</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<(T Result, bool Changed)>> change, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var (result, changed) = await change(connection, transaction);
        if (changed) await BumpRevisionAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public async ValueTask<long> GetRevisionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM revision WHERE id = 1";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask<long> WaitForChangeAsync(long known, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var current = await GetRevisionAsync(cancellationToken);
            if (current != known || DateTime.UtcNow >= deadline) return current;
            var wait = deadline - DateTime.UtcNow;
            await Task.Delay(wait < PollInterval ? wait : PollInterval, cancellationToken);
        }
    }
}
