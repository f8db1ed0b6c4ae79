using Npgsql;

namespace Gatehouse.Storage.Postgres;

internal sealed partial class PostgresStore
{
    public async ValueTask<StoredRole?> GetRoleAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT name, definition, updated_at FROM roles WHERE name = @name", connection);
        command.Parameters.AddWithValue("name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRole(reader) : null;
    }

    public async ValueTask<IReadOnlyList<StoredRole>> ListRolesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT name, definition, updated_at FROM roles ORDER BY name COLLATE \"C\"", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var roles = new List<StoredRole>();
        while (await reader.ReadAsync(cancellationToken)) roles.Add(ReadRole(reader));
        return roles;
    }

    public async ValueTask UpsertRolesAsync(IReadOnlyList<StoredRole> roles, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            // One transaction: if any role fails, none is applied (a file of roles applies whole or not at all).
            foreach (var role in roles)
            {
                await using var command = new NpgsqlCommand("""
                    INSERT INTO roles (name, definition, updated_at) VALUES (@name, @definition, @updated)
                    ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                    """, connection, transaction);
                command.Parameters.AddWithValue("name", role.Name);
                command.Parameters.AddWithValue("definition", role.Definition);
                command.Parameters.AddWithValue("updated", Utc(role.UpdatedAt));
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return (true, roles.Count > 0);
        }, cancellationToken);

    public async ValueTask<bool> DeleteRoleAsync(string name, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM roles WHERE name = @name", connection, transaction);
            command.Parameters.AddWithValue("name", name);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (deleted, deleted);
        }, cancellationToken);

    private static StoredRole ReadRole(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
}
