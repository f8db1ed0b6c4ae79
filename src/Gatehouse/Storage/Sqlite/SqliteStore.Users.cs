using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Gatehouse.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    private const string UserColumns = "name, roles, traits, password_hash, sealed_totp, locked, created_at, updated_at";

    public async ValueTask<StoredUser?> GetUserAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {UserColumns} FROM users WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadUser(reader) : null;
    }

    public async ValueTask<IReadOnlyList<StoredUser>> ListUsersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {UserColumns} FROM users ORDER BY name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var users = new List<StoredUser>();
        while (await reader.ReadAsync(cancellationToken)) users.Add(ReadUser(reader));
        return users;
    }

    public async ValueTask<bool> AddUserAsync(StoredUser user, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = UserCommand(connection, transaction, user,
                $"INSERT INTO users ({UserColumns}) VALUES ($name, $roles, $traits, $hash, $totp, $locked, $created, $updated) ON CONFLICT (name) DO NOTHING");
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (added, added);
        }, cancellationToken);

    public async ValueTask<bool> UpdateUserAsync(StoredUser user, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = UserCommand(connection, transaction, user, """
                UPDATE users SET roles = $roles, traits = $traits, password_hash = $hash, sealed_totp = $totp, locked = $locked,
                    updated_at = $updated WHERE name = $name
                """);
            var updated = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (updated, updated);
        }, cancellationToken);

    public async ValueTask<bool> DeleteUserAsync(string name, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            // Two commands: one would report the rows of both statements, and failures are recorded for names that
            // were never users, so "deleted" must count the users row alone.
            bool deleted;
            await using (var user = connection.CreateCommand())
            {
                user.Transaction = transaction;
                user.CommandText = "DELETE FROM users WHERE name = $name";
                user.Parameters.AddWithValue("$name", name);
                deleted = await user.ExecuteNonQueryAsync(cancellationToken) == 1;
            }
            foreach (var table in (string[])["login_failures", "totp_used_steps"])
            {
                await using var traces = connection.CreateCommand();
                traces.Transaction = transaction;
                traces.CommandText = $"DELETE FROM {table} WHERE user_name = $name";
                traces.Parameters.AddWithValue("$name", name);
                await traces.ExecuteNonQueryAsync(cancellationToken);
            }
            return (deleted, deleted);
        }, cancellationToken);

    public async ValueTask<string?> TryReserveLoginAttemptAsync(string user, DateTimeOffset at, DateTimeOffset since, int limit,
        CancellationToken cancellationToken) =>
        // A write transaction (BEGIN IMMEDIATE): SQLite lets one writer in at a time, so the count cannot go stale before the insert.
        await WriteAsync(async (connection, transaction) =>
        {
            var attempt = Guid.NewGuid().ToString("N");
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO login_failures (user_name, failed_at, attempt)
                SELECT $user, $at, $attempt WHERE (SELECT COUNT(*) FROM login_failures WHERE user_name = $user AND failed_at >= $since) < $limit
                """;
            command.Parameters.AddWithValue("$user", user);
            command.Parameters.AddWithValue("$at", FormatTime(at));
            command.Parameters.AddWithValue("$attempt", attempt);
            command.Parameters.AddWithValue("$since", FormatTime(since));
            command.Parameters.AddWithValue("$limit", limit);
            return (await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? attempt : null, false);
        }, cancellationToken);

    public async ValueTask SettleLoginAttemptAsync(string user, string attempt, LoginAttemptOutcome outcome, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = outcome switch
        {
            // Settled failures lose their attempt id: a later success clears them, but not attempts still in progress.
            LoginAttemptOutcome.Failed => "UPDATE login_failures SET attempt = NULL WHERE user_name = $user AND attempt = $attempt",
            LoginAttemptOutcome.Released => "DELETE FROM login_failures WHERE user_name = $user AND attempt = $attempt",
            LoginAttemptOutcome.Succeeded => "DELETE FROM login_failures WHERE user_name = $user AND (attempt IS NULL OR attempt = $attempt)",
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
        };
        command.Parameters.AddWithValue("$user", user);
        command.Parameters.AddWithValue("$attempt", attempt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<int> CountLoginFailuresAsync(string user, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM login_failures WHERE user_name = $user AND failed_at >= $since";
        command.Parameters.AddWithValue("$user", user);
        command.Parameters.AddWithValue("$since", FormatTime(since));
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask ClearLoginFailuresAsync(string user, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM login_failures WHERE user_name = $user";
        command.Parameters.AddWithValue("$user", user);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<bool> TryUseTotpStepAsync(string user, long step, long forgetBefore, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using (var forget = connection.CreateCommand())
        {
            forget.CommandText = "DELETE FROM totp_used_steps WHERE step < $before";
            forget.Parameters.AddWithValue("$before", forgetBefore);
            await forget.ExecuteNonQueryAsync(cancellationToken);
        }
        // Separate commands: one would report the rows of both statements. The primary key makes the insert the test.
        await using var use = connection.CreateCommand();
        use.CommandText = "INSERT INTO totp_used_steps (user_name, step) VALUES ($user, $step) ON CONFLICT (user_name, step) DO NOTHING";
        use.Parameters.AddWithValue("$user", user);
        use.Parameters.AddWithValue("$step", step);
        return await use.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static SqliteCommand UserCommand(SqliteConnection connection, SqliteTransaction transaction, StoredUser user, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$name", user.Name);
        command.Parameters.AddWithValue("$roles", JsonSerializer.Serialize(user.Roles));
        command.Parameters.AddWithValue("$traits", JsonSerializer.Serialize(user.Traits));
        command.Parameters.AddWithValue("$hash", (object?)user.PasswordHash ?? DBNull.Value);
        command.Parameters.AddWithValue("$totp", (object?)user.SealedTotpSecret ?? DBNull.Value);
        command.Parameters.AddWithValue("$locked", user.Locked ? 1 : 0);
        command.Parameters.AddWithValue("$created", FormatTime(user.CreatedAt));
        command.Parameters.AddWithValue("$updated", FormatTime(user.UpdatedAt));
        return command;
    }

    private static StoredUser ReadUser(SqliteDataReader reader) => new(
        reader.GetString(0),
        JsonSerializer.Deserialize<List<string>>(reader.GetString(1)) ?? [],
        JsonSerializer.Deserialize<Dictionary<string, IReadOnlyList<string>>>(reader.GetString(2)) ?? [],
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : (byte[])reader[4],
        reader.GetInt64(5) != 0,
        ParseTime(reader.GetString(6)),
        ParseTime(reader.GetString(7)));
}
