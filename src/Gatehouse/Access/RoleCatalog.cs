using System.Runtime.CompilerServices;
using Gatehouse.Access.Roles;
using Gatehouse.Storage;

namespace Gatehouse.Access;

/// <summary>The roles of the cluster, parsed once per store revision, and the access checker for an identity.</summary>
internal sealed class RoleCatalog(IStore store)
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private (long Revision, IReadOnlyDictionary<string, Role> Roles) _current = (-1, new Dictionary<string, Role>());

    /// <summary>Checkers already built, per identity (the same identity object while its certificate's verdict is cached)
    /// and only for the roles they were built from: a checker expands every role's conditions with the identity's traits,
    /// which was a tenth of an HTTP app request's CPU when done per request (docs/benchmarks.md, "Issue 17").</summary>
    private readonly ConditionalWeakTable<Identity.Identity, BuiltChecker> _checkers = new();

    private sealed record BuiltChecker(IReadOnlyDictionary<string, Role> Roles, AccessChecker Checker);

    /// <summary>The checker for what an identity's roles allow now; roles that no longer exist grant nothing.</summary>
    public async ValueTask<AccessChecker> CheckerForAsync(Identity.Identity identity, CancellationToken cancellationToken)
    {
        // The roles are read at the store's current revision on every call, so a change applies to the next decision; a
        // checker is reused only while it was built from that very set of roles, for that very identity (immutable).
        var roles = await RolesAsync(cancellationToken);
        if (_checkers.TryGetValue(identity, out var built) && ReferenceEquals(built.Roles, roles)) return built.Checker;
        var checker = new AccessChecker([.. identity.Roles.Where(roles.ContainsKey).Select(name => roles[name])], identity.Traits);
        _checkers.AddOrUpdate(identity, new BuiltChecker(roles, checker));
        return checker;
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
