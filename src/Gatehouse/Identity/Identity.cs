namespace Gatehouse.Identity;

/// <summary>
/// Who a connection or request is, and what its certificate says it may do. Travels inside Gatehouse user
/// certificates (subject CN = <see cref="User"/>, O = <see cref="Cluster"/>, the rest in the identity extension).
/// </summary>
internal sealed record Identity
{
    public required string User { get; init; }
    public required string Cluster { get; init; }
    public IReadOnlyList<string> Roles { get; init; } = [];
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Traits { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    public IReadOnlyList<string> Logins { get; init; } = [];
    public IReadOnlyList<string> KubeUsers { get; init; } = [];
    public IReadOnlyList<string> KubeGroups { get; init; } = [];
    public IReadOnlyList<string> DbUsers { get; init; } = [];
    public IReadOnlyList<string> DbNames { get; init; } = [];

    /// <summary>When set, the certificate is honoured only from this client address.</summary>
    public string? PinnedIp { get; init; }

    public DateTimeOffset IssuedAt { get; init; }

    /// <summary>How the certificate came to be: "admin" (issued by an operator), "login", …</summary>
    public string IssuedVia { get; init; } = "admin";
}
