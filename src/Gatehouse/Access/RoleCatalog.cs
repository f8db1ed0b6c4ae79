using Gatehouse.Access.Roles;
using Gatehouse.Storage;

namespace Gatehouse.Access;

/// <summary>The roles of the cluster, parsed once per store revision, and the access checker for an identity.</summary>
internal sealed class RoleCatalog(IStore store)
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private (long Revision, IReadOnlyDictionary<string, Role> Roles) _current = (-1, new Dictionary<string, Role>());

    /// <summary>The checker for what an identity's roles allow now; roles that no longer exist grant nothing.</summary>
    public async ValueTask<AccessChecker> CheckerForAsync(Identity.Identity identity, CancellationToken cancellationToken)
    {
        var roles = await RolesAsync(cancellationToken);
        return new AccessChecker([.. identity.Roles.Where(roles.ContainsKey).Select(name => roles[name])], identity.Traits);
    }

    private async ValueTask<IReadOnlyDictionary<string, Role>> RolesAsync(CancellationToken cancellationToken)
    {
        var revision = await store.GetRevisionAsync(cancellationToken);
        var current = _current;
        if (current.Revision == revision) return current.Roles;
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_current.Revision == revision) return _current.Roles;
            var parsed = new Dictionary<string, Role>(StringComparer.Ordinal);
            foreach (var stored in await store.ListRolesAsync(cancellationToken))
            {
                var result = RoleParser.Parse(stored.Definition, $"role {stored.Name}");
                if (result.IsSuccess && result.Roles.Count == 1) parsed[stored.Name] = result.Roles[0].Role;
            }
            _current = (revision, parsed);
            return parsed;
        }
        finally
        {
            _loading.Release();
        }
    }
}
