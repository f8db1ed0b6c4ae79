namespace Gatehouse.Storage;

/// <param name="Definition">The role as applied: one YAML document, kept as written so `roles show` gives it back.</param>
internal sealed record StoredRole(string Name, string Definition, DateTimeOffset UpdatedAt);

internal interface IRoleStore
{
    ValueTask<StoredRole?> GetRoleAsync(string name, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<StoredRole>> ListRolesAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces all the given roles in one transaction: a file of roles applies whole or not at all.</summary>
    ValueTask UpsertRolesAsync(IReadOnlyList<StoredRole> roles, CancellationToken cancellationToken);

    ValueTask<bool> DeleteRoleAsync(string name, CancellationToken cancellationToken);
}
