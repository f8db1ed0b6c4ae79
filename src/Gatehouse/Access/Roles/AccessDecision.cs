namespace Gatehouse.Access.Roles;

/// <summary>Whether access is allowed, with a reason the user can act on.</summary>
/// <param name="Role">The role that allowed or denied it; null when no role decided (none matched).</param>
internal sealed record AccessDecision(bool Allowed, string Reason, string? Role)
{
    public static AccessDecision AllowedBy(string role) => new(true, $"allowed by role {role}", role);

    public static AccessDecision Denied(string reason, string? role) => new(false, reason, role);
}

/// <summary>A decision on a Kubernetes cluster, and whom to impersonate there when allowed (empty lists otherwise).</summary>
internal sealed record KubeAccess(AccessDecision Decision, IReadOnlyList<string> Users, IReadOnlyList<string> Groups)
{
    public bool Allowed => Decision.Allowed;
}
