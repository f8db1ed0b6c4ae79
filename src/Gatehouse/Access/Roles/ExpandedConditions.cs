namespace Gatehouse.Access.Roles;

/// <summary>One side of a role with one user's traits substituted: lists de-duplicated, label maps compiled.</summary>
internal sealed record ExpandedConditions(
    IReadOnlyList<string> Logins,
    LabelSelector NodeLabels,
    LabelSelector AppLabels,
    LabelSelector DbLabels,
    IReadOnlyList<string> DbUsers,
    IReadOnlyList<string> DbNames,
    LabelSelector KubeLabels,
    IReadOnlyList<string> KubeGroups,
    IReadOnlyList<string> KubeUsers)
{
    public static ExpandedConditions Expand(RoleConditions conditions, IReadOnlyDictionary<string, IReadOnlyList<string>> traits)
    {
        List<string> Values(IReadOnlyList<string> values) =>
            [.. values.SelectMany(v => TraitTemplate.Expand(v, traits)).Distinct(StringComparer.Ordinal)];

        LabelSelector Labels(IReadOnlyDictionary<string, IReadOnlyList<string>> labels) => LabelSelector.Expand(labels, traits);

        return new ExpandedConditions(
            Values(conditions.Logins),
            Labels(conditions.NodeLabels),
            Labels(conditions.AppLabels),
            Labels(conditions.DbLabels),
            Values(conditions.DbUsers),
            Values(conditions.DbNames),
            Labels(conditions.KubeLabels),
            Values(conditions.KubeGroups),
            Values(conditions.KubeUsers));
    }
}
