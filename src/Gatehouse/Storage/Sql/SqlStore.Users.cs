using System.Data.Common;
using System.Text.Json;

namespace Gatehouse.Storage.Sql;

/// <summary>Users, the login attempts counted against them, and the TOTP steps they have used.</summary>
internal abstract partial class SqlStore
{
    private const string UserColumns = "name, roles, traits, password_hash, sealed_totp, locked, created_at, updated_at";

    public async ValueTask<StoredUser?> GetUserAsync(string name, CancellationToken cancellationToken) =>
        await ReadOneAsync($"SELECT {UserColumns} FROM users WHERE name = @name",
            command => Add(command, "name", SqlType.Text, name), ReadUser, cancellationToken);

    public async ValueTask<IReadOnlyList<StoredUser>> ListUsersAsync(CancellationToken cancellationToken) =>
        await ReadAllAsync($"SELECT {UserColumns} FROM users ORDER BY name COLLATE {ByteOrder}", NoParameters, ReadUser, cancellationToken);

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
            // Separate commands: one would report the rows of both statements, and failures are recorded for names that
            // were never users, so "deleted" must count the users row alone.
            bool deleted;
            await using (var command = Command(connection, transaction, "DELETE FROM users WHERE name = @name"))
            {
                Add(command, "name", SqlType.Text, name);
                deleted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            }
            foreach (var table in (string[])["login_failures", "totp_used_steps"])
            {
                await using var traces = Command(connection, transaction, $"DELETE FROM {table} WHERE user_name = @name");
                Add(traces, "name", SqlType.Text, name);
                await traces.ExecuteNonQueryAsync(cancellationToken);
            }
            return (deleted, deleted);
        }, cancellationToken);

    public async ValueTask<string?> TryReserveLoginAttemptAsync(string user, DateTimeOffset at, DateTimeOffset since, int limit,
        CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await LockLoginAttemptsAsync(connection, transaction, user, cancellationToken);
            var attempt = Guid.NewGuid().ToString("N");
            await using var command = Command(connection, transaction, """
                INSERT INTO login_failures (user_name, failed_at, attempt)
                SELECT @user, @at, @attempt WHERE (SELECT COUNT(*) FROM login_failures WHERE user_name = @user AND failed_at >= @since) < @limit
                """);
            Add(command, "user", SqlType.Text, user);
            Add(command, "at", SqlType.Time, at);
            Add(command, "attempt", SqlType.Text, attempt);
            Add(command, "since", SqlType.Time, since);
            Add(command, "limit", SqlType.BigInt, (long)limit);
            return (await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? attempt : null, false);
        }, cancellationToken);

    public async ValueTask SettleLoginAttemptAsync(string user, string attempt, LoginAttemptOutcome outcome, CancellationToken cancellationToken) =>
        await ExecuteAsync(outcome switch
            {
                // Settled failures lose their attempt id: a later success clears them, but not attempts still in progress.
                LoginAttemptOutcome.Failed => "UPDATE login_failures SET attempt = NULL WHERE user_name = @user AND attempt = @attempt",
                LoginAttemptOutcome.Released => "DELETE FROM login_failures WHERE user_name = @user AND attempt = @attempt",
                LoginAttemptOutcome.Succeeded => "DELETE FROM login_failures WHERE user_name = @user AND (attempt IS NULL OR attempt = @attempt)",
                _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
            },
            command =>
            {
                Add(command, "user", SqlType.Text, user);
                Add(command, "attempt", SqlType.Text, attempt);
            },
            cancellationToken);

    public async ValueTask<int> CountLoginFailuresAsync(string user, DateTimeOffset since, CancellationToken cancellationToken) =>
        (int)(long)(await ScalarAsync("SELECT COUNT(*) FROM login_failures WHERE user_name = @user AND failed_at >= @since",
            command =>
            {
                Add(command, "user", SqlType.Text, user);
                Add(command, "since", SqlType.Time, since);
            },
            cancellationToken))!;

    public async ValueTask ClearLoginFailuresAsync(string user, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM login_failures WHERE user_name = @user", command => Add(command, "user", SqlType.Text, user),
            cancellationToken);

    public async ValueTask<bool> TryUseTotpStepAsync(string user, long step, long forgetBefore, CancellationToken cancellationToken)
    {
        await ExecuteAsync("DELETE FROM totp_used_steps WHERE step < @before", command => Add(command, "before", SqlType.BigInt, forgetBefore),
            cancellationToken);
        // The primary key makes the insert the test: of two proxies given the same code, one inserts and one conflicts.
        return await ExecuteAsync("INSERT INTO totp_used_steps (user_name, step) VALUES (@user, @step) ON CONFLICT (user_name, step) DO NOTHING",
            command =>
            {
                Add(command, "user", SqlType.Text, user);
                Add(command, "step", SqlType.BigInt, step);
            },
            cancellationToken) == 1;
    }

    private DbCommand UserCommand(DbConnection connection, DbTransaction transaction, StoredUser user, string sql)
    {
        var command = Command(connection, transaction, sql);
        Add(command, "name", SqlType.Text, user.Name);
        Add(command, "roles", SqlType.Json, JsonSerializer.Serialize(user.Roles));
        Add(command, "traits", SqlType.Json, JsonSerializer.Serialize(user.Traits));
        AddOptional(command, "hash", SqlType.Text, user.PasswordHash);
        AddOptional(command, "totp", SqlType.Bytes, user.SealedTotpSecret);
        Add(command, "locked", SqlType.Boolean, user.Locked);
        Add(command, "created", SqlType.Time, user.CreatedAt);
        Add(command, "updated", SqlType.Time, user.UpdatedAt);
        return command;
    }

    private StoredUser ReadUser(DbDataReader reader) => new(
        reader.GetString(0),
        JsonSerializer.Deserialize<List<string>>(reader.GetString(1)) ?? [],
        JsonSerializer.Deserialize<Dictionary<string, IReadOnlyList<string>>>(reader.GetString(2)) ?? [],
        NullableText(reader, 3),
        reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4),
        reader.GetBoolean(5),
        ReadTime(reader, 6),
        ReadTime(reader, 7));
}
