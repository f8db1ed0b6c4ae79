namespace Gatehouse.Access.Roles;

/// <summary>
/// A role as Teleport users know it: what it allows, what it denies (deny always wins), and session options.
/// Values may still hold trait templates (<c>{{internal.logins}}</c>); <see cref="AccessChecker"/> expands them per user.
/// </summary>
internal sealed record Role(string Name, RoleConditions Allow, RoleConditions Deny, RoleOptions Options);

/// <summary>
/// One side (allow or deny) of a role. Label maps are key → accepted values; a value is a literal, <c>*</c>,
/// a glob with <c>*</c>, or an anchored regex <c>^…$</c>. An empty map matches no resource.
/// </summary>
internal sealed record RoleConditions
{
    public static readonly RoleConditions Empty = new();

    public IReadOnlyList<string> Logins { get; init; } = [];
    public IReadOnlyDictionary<string, IReadOnlyList<string>> NodeLabels { get; init; } = RoleLabels.None;
    public IReadOnlyDictionary<string, IReadOnlyList<string>> AppLabels { get; init; } = RoleLabels.None;
    public IReadOnlyDictionary<string, IReadOnlyList<string>> DbLabels { get; init; } = RoleLabels.None;
    public IReadOnlyList<string> DbUsers { get; init; } = [];
    public IReadOnlyList<string> DbNames { get; init; } = [];
    public IReadOnlyDictionary<string, IReadOnlyList<string>> KubeLabels { get; init; } = RoleLabels.None;
    public IReadOnlyList<string> KubeGroups { get; init; } = [];
    public IReadOnlyList<string> KubeUsers { get; init; } = [];
}

/// <param name="MaxSessionTtl">Caps the lifetime of certificates issued to holders of the role; null when unset.</param>
internal sealed record RoleOptions(TimeSpan? MaxSessionTtl = null)
{
    public static readonly RoleOptions None = new();
}

internal static class RoleLabels
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> None = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The key and value that together match every resource (<c>'*': '*'</c>).</summary>
    public const string Wildcard = "*";
}
