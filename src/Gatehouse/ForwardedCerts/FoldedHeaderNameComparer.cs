namespace Gatehouse.ForwardedCerts;

/// <summary>
/// Header names compared as CGI-style servers read them: case-insensitive, and <c>_</c> the same character as <c>-</c>.
/// CGI (RFC 3875 §4.1.18) hands a header to the application as <c>HTTP_NAME</c> with every <c>-</c> turned into <c>_</c>,
/// so WSGI, PHP, Rack and their kin read <c>Impersonate_User</c> exactly as <c>Impersonate-User</c>. Every header the
/// proxy owns or strips is matched this way (issue 11): Kestrel does not fold the two, and not every balancer drops
/// underscored names as nginx does by default (<c>underscores_in_headers off</c>).
/// </summary>
internal sealed class FoldedHeaderNameComparer : IEqualityComparer<string>
{
    public static FoldedHeaderNameComparer Instance { get; } = new();

    private FoldedHeaderNameComparer() { }

    public bool Equals(string? x, string? y)
    {
        if (x is null || y is null) return x is null && y is null;
        if (x.Length != y.Length) return false;
        for (var i = 0; i < x.Length; i++)
            if (Fold(x[i]) != Fold(y[i])) return false;
        return true;
    }

    public int GetHashCode(string name)
    {
        var hash = new HashCode();
        foreach (var c in name) hash.Add(Fold(c));
        return hash.ToHashCode();
    }

    /// <summary>True when <paramref name="name"/> begins with <paramref name="prefix"/>, folded (<c>Impersonate_Extra_x</c>
    /// begins with <c>Impersonate-</c>).</summary>
    public static bool StartsWith(string name, string prefix)
    {
        if (name.Length < prefix.Length) return false;
        for (var i = 0; i < prefix.Length; i++)
            if (Fold(name[i]) != Fold(prefix[i])) return false;
        return true;
    }

    private static char Fold(char c) => c switch
    {
        '_' => '-',
        >= 'a' and <= 'z' => (char)(c - ('a' - 'A')),
        < (char)128 => c,
        _ => char.ToUpperInvariant(c),
    };
}
