using Gatehouse.Access.Roles;
using Gatehouse.Storage;

namespace Gatehouse.Access.Login;

/// <summary>What a stored user may do, from its roles as they are now: the identity to put in its certificates and the
/// longest session its roles allow. <see cref="Error"/> says why not when a role is missing or unreadable.</summary>
internal sealed record UserRights(Identity.Identity Identity, TimeSpan? MaxSessionTtl, string? Error)
{
    public static async ValueTask<UserRights> ResolveAsync(IRoleStore store, StoredUser user, CancellationToken cancellationToken)
    {
        var bare = new Identity.Identity { User = user.Name, Cluster = "", Roles = user.Roles, Traits = user.Traits };
        var roles = new List<Role>();
        foreach (var name in user.Roles)
        {
            var stored = await store.GetRoleAsync(name, cancellationToken);
            if (stored is null)
                return new UserRights(bare, null, $"role '{name}' of user '{user.Name}' does not exist any more; ask an administrator to apply it or change the user's roles");
            var parsed = RoleParser.Parse(stored.Definition, $"role {name}");
            if (!parsed.IsSuccess || parsed.Roles.Count != 1)
                return new UserRights(bare, null, $"role '{name}' in the store cannot be read ({string.Join("; ", parsed.Errors)}); apply it again");
            roles.Add(parsed.Roles[0].Role);
        }
        var checker = new AccessChecker(roles, user.Traits);
        return new UserRights(bare with
        {
            Logins = checker.Logins,
            KubeUsers = checker.KubeUsers,
            KubeGroups = checker.KubeGroups,
            DbUsers = checker.DbUsers,
            DbNames = checker.DbNames,
        }, checker.MaxSessionTtl, null);
    }
}
