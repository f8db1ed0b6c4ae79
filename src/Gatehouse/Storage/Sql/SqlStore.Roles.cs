namespace Gatehouse.Storage.Sql;

internal abstract partial class SqlStore
{
    public async ValueTask<StoredRole?> GetRoleAsync(string name, CancellationToken cancellationToken) =>
        await ReadOneAsync("SELECT name, definition, updated_at FROM roles WHERE name = @name",
            command => Add(command, "name", SqlType.Text, name), ReadRole, cancellationToken);

    public async ValueTask<IReadOnlyList<StoredRole>> ListRolesAsync(CancellationToken cancellationToken) =>
        await ReadAllAsync($"SELECT name, definition, updated_at FROM roles ORDER BY name COLLATE {ByteOrder}", NoParameters, ReadRole,
            cancellationToken);

    public async ValueTask UpsertRolesAsync(IReadOnlyList<StoredRole> roles, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            // One transaction: if any role fails, none is applied (a file of roles applies whole or not at all).
            foreach (var role in roles)
            {
                await using var command = Command(connection, transaction, """
                    INSERT INTO roles (name, definition, updated_at) VALUES (@name, @definition, @updated)
                    ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                    """);
                Add(command, "name", SqlType.Text, role.Name);
                Add(command, "definition", SqlType.Text, role.Definition);
                Add(command, "updated", SqlType.Time, role.UpdatedAt);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return (true, roles.Count > 0);
        }, cancellationToken);

    public async ValueTask<bool> DeleteRoleAsync(string name, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, "DELETE FROM roles WHERE name = @name");
            Add(command, "name", SqlType.Text, name);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (deleted, deleted);
        }, cancellationToken);

    private StoredRole ReadRole(System.Data.Common.DbDataReader reader) => new(reader.GetString(0), reader.GetString(1), ReadTime(reader, 2));
}
