namespace Gatehouse.Access.Roles;

/// <summary>
/// Access decisions for one user: their roles with their traits substituted. Semantics follow Teleport's:
/// a role allows a resource when its allow labels match it and the same role lists the login (db user, db name);
/// deny wins, and is greedy: a role denies when its deny labels match the resource <em>or</em> its deny lists name
/// what is asked for. Also gives what goes into the user's certificate (<see cref="Logins"/>, …).
/// </summary>
internal sealed class AccessChecker
{
    private const string Any = "*";

    private readonly IReadOnlyList<ExpandedRole> _roles;
    private readonly string _roleNames;

    public AccessChecker(IReadOnlyList<Role> roles, IReadOnlyDictionary<string, IReadOnlyList<string>> traits)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(traits);

        _roles = [.. roles.Select(r => new ExpandedRole(r.Name, ExpandedConditions.Expand(r.Allow, traits), ExpandedConditions.Expand(r.Deny, traits)))];
        _roleNames = roles.Count == 0 ? "none" : string.Join(", ", roles.Select(r => r.Name));
        Logins = Effective(_roles, c => c.Logins, starMeansAny: false);
        KubeUsers = Effective(_roles, c => c.KubeUsers, starMeansAny: false);
        KubeGroups = Effective(_roles, c => c.KubeGroups, starMeansAny: false);
        DbUsers = Effective(_roles, c => c.DbUsers, starMeansAny: true);
        DbNames = Effective(_roles, c => c.DbNames, starMeansAny: true);
        MaxSessionTtl = roles.Min(r => r.Options.MaxSessionTtl); // nulls are skipped; null when no role sets one
    }

    /// <summary>Every login some role allows, templates expanded, de-duplicated, denied ones removed.</summary>
    public IReadOnlyList<string> Logins { get; }

    public IReadOnlyList<string> KubeUsers { get; }

    public IReadOnlyList<string> KubeGroups { get; }

    /// <summary>May hold <c>*</c>, meaning any database user.</summary>
    public IReadOnlyList<string> DbUsers { get; }

    /// <summary>May hold <c>*</c>, meaning any database name.</summary>
    public IReadOnlyList<string> DbNames { get; }

    /// <summary>The shortest max_session_ttl of the user's roles; null when none sets one.</summary>
    public TimeSpan? MaxSessionTtl { get; }

    public AccessDecision CheckNode(string name, IReadOnlyDictionary<string, string> labels, string login) =>
        Check($"node '{name}'", "node_labels", c => c.NodeLabels, labels, $"login '{login}' on node '{name}'",
            new Requirement("login", "logins", login, c => c.Logins, StarMeansAny: false));

    public AccessDecision CheckApp(string name, IReadOnlyDictionary<string, string> labels) =>
        Check($"app '{name}'", "app_labels", c => c.AppLabels, labels, $"app '{name}'");

    public AccessDecision CheckDatabase(string name, IReadOnlyDictionary<string, string> labels, string dbUser, string dbName) =>
        Check($"database '{name}'", "db_labels", c => c.DbLabels, labels, $"db user '{dbUser}' on database '{name}'",
            new Requirement("db user", "db_users", dbUser, c => c.DbUsers, StarMeansAny: true),
            new Requirement("db name", "db_names", dbName, c => c.DbNames, StarMeansAny: true));

    /// <summary>A database session that names no database inside the server (MySQL without a default database): the
    /// labels and the db user are judged; db_names judges the database when one is chosen later.</summary>
    public AccessDecision CheckDatabaseUser(string name, IReadOnlyDictionary<string, string> labels, string dbUser) =>
        Check($"database '{name}'", "db_labels", c => c.DbLabels, labels, $"db user '{dbUser}' on database '{name}'",
            new Requirement("db user", "db_users", dbUser, c => c.DbUsers, StarMeansAny: true));

    /// <summary>Whether the database may be reached at all (db_labels), before a db user is named.</summary>
    public AccessDecision CheckDatabaseLabels(string name, IReadOnlyDictionary<string, string> labels) =>
        Check($"database '{name}'", "db_labels", c => c.DbLabels, labels, $"database '{name}'");

    /// <summary>Whether the cluster may be reached, and as whom: the kube users and groups of every role that allows it, minus every denied one.</summary>
    public KubeAccess CheckKube(string name, IReadOnlyDictionary<string, string> labels)
    {
        var decision = Check($"kubernetes cluster '{name}'", "kube_labels", c => c.KubeLabels, labels, $"kubernetes cluster '{name}'");
        if (!decision.Allowed)
        {
            return new KubeAccess(decision, [], []);
        }

        var allowing = _roles.Where(r => r.Allow.KubeLabels.Matches(labels, failClosed: false, out _)).ToList();
        var users = Effective(allowing, c => c.KubeUsers, starMeansAny: false);
        var groups = Effective(allowing, c => c.KubeGroups, starMeansAny: false);
        if (users.Count == 0 && groups.Count == 0)
        {
            var names = string.Join(", ", allowing.Select(r => r.Name));
            return new KubeAccess(AccessDecision.Denied(
                $"{(allowing.Count == 1 ? $"role {names} allows" : $"roles {names} allow")} kubernetes cluster '{name}' but no kube_groups " +
                "or kube_users to act as there (after deny): add allow.kube_groups", allowing[0].Name), [], []);
        }
        return new KubeAccess(decision, users, groups);
    }

    private AccessDecision Check(
        string resource,
        string labelsKey,
        Func<ExpandedConditions, LabelSelector> selectorOf,
        IReadOnlyDictionary<string, string> labels,
        string asked,
        params Requirement[] requirements)
    {
        ArgumentNullException.ThrowIfNull(labels);

        // 1. Deny wins, greedily: any role whose deny labels match, or whose deny lists name what is asked for.
        foreach (var role in _roles)
        {
            if (selectorOf(role.Deny).Matches(labels, failClosed: true, out var rule))
            {
                return AccessDecision.Denied($"denied by role {role.Name} (deny {labelsKey} {rule})", role.Name);
            }
            foreach (var requirement in requirements)
            {
                if (Lists(requirement.ListOf(role.Deny), requirement.Value, requirement.StarMeansAny) is { } entry)
                {
                    return AccessDecision.Denied($"denied by role {role.Name} (deny {requirement.Key} '{entry}')", role.Name);
                }
            }
        }

        // 2. Allowed when one role's labels match and that same role lists everything asked for.
        var refusals = new List<(string Role, string Reason)>();
        foreach (var role in _roles)
        {
            if (!selectorOf(role.Allow).Matches(labels, failClosed: false, out _))
            {
                continue;
            }
            var missing = requirements.FirstOrDefault(r => Lists(r.ListOf(role.Allow), r.Value, r.StarMeansAny) is null);
            if (missing is null)
            {
                return AccessDecision.AllowedBy(role.Name);
            }
            var offered = missing.ListOf(role.Allow);
            refusals.Add((role.Name, $"role {role.Name} does not allow {missing.Noun} '{missing.Value}' on {resource} " +
                $"({missing.Key} it allows: {(offered.Count == 0 ? "none" : string.Join(", ", offered))})"));
        }

        // 3. Say why not: the roles that cover the resource but not the name asked for, else that none covers it.
        return refusals.Count > 0
            ? AccessDecision.Denied(string.Join("; ", refusals.Select(r => r.Reason)), refusals[0].Role)
            : AccessDecision.Denied($"no role allows {asked} (roles: {_roleNames}; none has {labelsKey} matching it)", null);
    }

    /// <returns>The entry of <paramref name="list"/> that covers <paramref name="value"/>, or null.</returns>
    private static string? Lists(IReadOnlyList<string> list, string value, bool starMeansAny) =>
        list.Contains(value, StringComparer.Ordinal) ? value
        : starMeansAny && list.Contains(Any, StringComparer.Ordinal) ? Any
        : null;

    private List<string> Effective(IEnumerable<ExpandedRole> allowing, Func<ExpandedConditions, IReadOnlyList<string>> listOf, bool starMeansAny)
    {
        var denied = _roles.SelectMany(r => listOf(r.Deny)).ToHashSet(StringComparer.Ordinal);
        if (starMeansAny && denied.Contains(Any))
        {
            return [];
        }
        return [.. allowing.SelectMany(r => listOf(r.Allow)).Distinct(StringComparer.Ordinal).Where(v => !denied.Contains(v))];
    }

    private sealed record ExpandedRole(string Name, ExpandedConditions Allow, ExpandedConditions Deny);

    private sealed record Requirement(string Noun, string Key, string Value, Func<ExpandedConditions, IReadOnlyList<string>> ListOf, bool StarMeansAny);
}
