using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private const string UserColumns = "name, roles, traits, password_hash, sealed_totp, locked, created_at, updated_at";

    public async ValueTask<StoredUser?> GetUserAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {UserColumns} FROM users WHERE name = @name", connection);
        command.Parameters.AddWithValue("name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadUser(reader) : null;
    }

    public async ValueTask<IReadOnlyList<StoredUser>> ListUsersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
        await using var command = new NpgsqlCommand($"SELECT {UserColumns} FROM users ORDER BY name COLLATE \"C\"", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var users = new List<StoredUser>();
        while (await reader.ReadAsync(cancellationToken)) users.Add(ReadUser(reader));
        return users;
    }

    public async ValueTask<bool> AddUserAsync(StoredUser user, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = UserCommand(connection, transaction, user,
                $"INSERT INTO users ({UserColumns}) VALUES (@name, @roles, @traits, @hash, @totp, @locked, @created, @updated) ON CONFLICT (name) DO NOTHING");
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (added, added);
        }, cancellationToken);

    public async ValueTask<bool> UpdateUserAsync(StoredUser user, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = UserCommand(connection, transaction, user, """
                UPDATE users SET roles = @roles, traits = @traits, password_hash = @hash, sealed_totp = @totp, locked = @locked,
                    updated_at = @updated WHERE name = @name
                """);
            var updated = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (updated, updated);
        }, cancellationToken);

    public async ValueTask<bool> DeleteUserAsync(string name, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            bool deleted;
            await using (var user = new NpgsqlCommand("DELETE FROM users WHERE name = @name", connection, transaction))
            {
                user.Parameters.AddWithValue("name", name);
                deleted = await user.ExecuteNonQueryAsync(cancellationToken) == 1;
            }
            foreach (var table in (string[])["login_failures", "totp_used_steps"])
            {
                await using var traces = new NpgsqlCommand($"DELETE FROM {table} WHERE user_name = @name", connection, transaction);
                traces.Parameters.AddWithValue("name", name);
                await traces.ExecuteNonQueryAsync(cancellationToken);
            }
            return (deleted, deleted);
        }, cancellationToken);

    /// <summary>Any fixed pair works for the two-key advisory lock (a key space apart from the migrations' one-key lock); "LOGI".</summary>
    private const int LoginAttemptLockClass = 0x4C4F_4749;

    public async ValueTask<string?> TryReserveLoginAttemptAsync(string user, DateTimeOffset at, DateTimeOffset since, int limit,
        CancellationToken cancellationToken) =>
        // Under read committed a count-then-insert lets two proxies both see limit − 1; a transaction-scoped lock per user
        // name (hashed: a collision only makes two users wait for each other) makes it one step.
        await WriteAsync(async (connection, transaction) =>
        {
            var attempt = Guid.NewGuid().ToString("N");
            await using (var serialise = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@class, hashtext(@user))", connection, transaction))
            {
                serialise.Parameters.AddWithValue("class", LoginAttemptLockClass);
                serialise.Parameters.AddWithValue("user", user);
                await serialise.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var command = new NpgsqlCommand("""
                INSERT INTO login_failures (user_name, failed_at, attempt)
                SELECT @user, @at, @attempt WHERE (SELECT count(*) FROM login_failures WHERE user_name = @user AND failed_at >= @since) < @limit
                """, connection, transaction);
            command.Parameters.AddWithValue("user", user);
            command.Parameters.AddWithValue("at", Utc(at));
            command.Parameters.AddWithValue("attempt", attempt);
            command.Parameters.AddWithValue("since", Utc(since));
            command.Parameters.AddWithValue("limit", (long)limit);
            return (await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? attempt : null, false);
        }, cancellationToken);

    public async ValueTask SettleLoginAttemptAsync(string user, string attempt, LoginAttemptOutcome outcome, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(outcome switch
        {
            // Settled failures lose their attempt id: a later success clears them, but not attempts still in progress.
            LoginAttemptOutcome.Failed => "UPDATE login_failures SET attempt = NULL WHERE user_name = @user AND attempt = @attempt",
            LoginAttemptOutcome.Released => "DELETE FROM login_failures WHERE user_name = @user AND attempt = @attempt",
            LoginAttemptOutcome.Succeeded => "DELETE FROM login_failures WHERE user_name = @user AND (attempt IS NULL OR attempt = @attempt)",
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
        }, connection);
        command.Parameters.AddWithValue("user", user);
        command.Parameters.AddWithValue("attempt", attempt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<int> CountLoginFailuresAsync(string user, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM login_failures WHERE user_name = @user AND failed_at >= @since", connection);
        command.Parameters.AddWithValue("user", user);
        command.Parameters.AddWithValue("since", Utc(since));
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask ClearLoginFailuresAsync(string user, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM login_failures WHERE user_name = @user", connection);
        command.Parameters.AddWithValue("user", user);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<bool> TryUseTotpStepAsync(string user, long step, long forgetBefore, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using (var forget = new NpgsqlCommand("DELETE FROM totp_used_steps WHERE step < @before", connection))
        {
            forget.Parameters.AddWithValue("before", forgetBefore);
            await forget.ExecuteNonQueryAsync(cancellationToken);
        }
        // The primary key makes the insert the test: of two proxies given the same code, one inserts and one conflicts.
        await using var use = new NpgsqlCommand(
            "INSERT INTO totp_used_steps (user_name, step) VALUES (@user, @step) ON CONFLICT (user_name, step) DO NOTHING", connection);
        use.Parameters.AddWithValue("user", user);
        use.Parameters.AddWithValue("step", step);
        return await use.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static NpgsqlCommand UserCommand(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredUser user, string sql)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        Add(command, "name", NpgsqlDbType.Text, user.Name);
        Add(command, "roles", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(user.Roles));
        Add(command, "traits", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(user.Traits));
        Add(command, "hash", NpgsqlDbType.Text, user.PasswordHash);
        Add(command, "totp", NpgsqlDbType.Bytea, user.SealedTotpSecret);
        Add(command, "locked", NpgsqlDbType.Boolean, user.Locked);
        Add(command, "created", NpgsqlDbType.TimestampTz, Utc(user.CreatedAt));
        Add(command, "updated", NpgsqlDbType.TimestampTz, Utc(user.UpdatedAt));
        return command;
    }

    private static StoredUser ReadUser(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        JsonSerializer.Deserialize<List<string>>(reader.GetString(1)) ?? [],
        JsonSerializer.Deserialize<Dictionary<string, IReadOnlyList<string>>>(reader.GetString(2)) ?? [],
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4),
        reader.GetBoolean(5),
        reader.GetFieldValue<DateTimeOffset>(6),
        reader.GetFieldValue<DateTimeOffset>(7));
}
