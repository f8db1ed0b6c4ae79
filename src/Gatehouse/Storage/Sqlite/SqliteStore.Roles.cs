namespace Gatehouse.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    public async ValueTask<StoredRole?> GetRoleAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, definition, updated_at FROM roles WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new StoredRole(reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))) : null;
    }

    public async ValueTask<IReadOnlyList<StoredRole>> ListRolesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, definition, updated_at FROM roles ORDER BY name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var roles = new List<StoredRole>();
        while (await reader.ReadAsync(cancellationToken))
            roles.Add(new StoredRole(reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))));
        return roles;
    }

    public async ValueTask UpsertRolesAsync(IReadOnlyList<StoredRole> roles, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            foreach (var role in roles)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO roles (name, definition, updated_at) VALUES ($name, $definition, $updated)
                    ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                    """;
                command.Parameters.AddWithValue("$name", role.Name);
                command.Parameters.AddWithValue("$definition", role.Definition);
                command.Parameters.AddWithValue("$updated", FormatTime(role.UpdatedAt));
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return (true, roles.Count > 0);
        }, cancellationToken);

    public async ValueTask<bool> DeleteRoleAsync(string name, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM roles WHERE name = $name";
            command.Parameters.AddWithValue("$name", name);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (deleted, deleted);
        }, cancellationToken);
}
