namespace Gatehouse.Access.Roles;

/// <summary>One thing wrong with a role file, located and keyed so the author can go straight to it.</summary>
/// <param name="Key">The path of the offending key (<c>allow.node_labels.env</c>), or <c>yaml</c> for a syntax error.</param>
internal sealed record RoleError(string File, int Line, int Column, string Key, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Key}: {Message}";
}

/// <summary>A parsed role and the YAML document it came from, exactly as written (what the store keeps).</summary>
internal sealed record ParsedRole(Role Role, string Definition);

/// <summary>
/// Either every role of a file, or every error found in it: a file of roles applies whole or not at all,
/// so <see cref="Roles"/> is empty whenever <see cref="Errors"/> is not.
/// </summary>
internal sealed record RoleParseResult(IReadOnlyList<ParsedRole> Roles, IReadOnlyList<RoleError> Errors)
{
    public bool IsSuccess => Errors.Count == 0;

    public static RoleParseResult Success(IReadOnlyList<ParsedRole> roles) => new(roles, []);

    public static RoleParseResult Failure(IReadOnlyList<RoleError> errors) => new([], errors);
}
