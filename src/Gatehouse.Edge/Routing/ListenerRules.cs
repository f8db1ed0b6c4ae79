using Gatehouse.Edge.Configuration;

namespace Gatehouse.Edge.Routing;

/// <summary>
/// A listener's rules in priority order, as ALB evaluates host-header and path-pattern conditions: <c>*</c> matches any
/// run of characters (none included), <c>?</c> exactly one; host names compare case-insensitively and without the port;
/// paths compare case-sensitively and without the query string. A rule with both conditions needs both.
/// </summary>
internal sealed class ListenerRules(IReadOnlyList<RuleOptions> rules, string? defaultTargetGroup)
{
    /// <summary>The target group's name (null when no rule matches and there is no default) and the rule's priority, its
    /// place in the list from 1 (0: the default action).</summary>
    public (string? Group, int Priority) Match(string host, string path)
    {
        var name = WithoutPort(host);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if ((rule.Host is null || Wildcard(rule.Host, name, ignoreCase: true)) && (rule.Path is null || Wildcard(rule.Path, path, ignoreCase: false)))
                return (rule.TargetGroup, i + 1);
        }
        return (defaultTargetGroup, 0);
    }

    private static string WithoutPort(string host)
    {
        if (host.StartsWith('[')) return host[..(host.IndexOf(']') + 1)];
        var colon = host.LastIndexOf(':');
        return colon < 0 ? host : host[..colon];
    }

    /// <summary>Glob match with backtracking on the last '*' only: linear in practice, no regular expression built from config.</summary>
    internal static bool Wildcard(string pattern, string text, bool ignoreCase)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || Same(pattern[p], text[t], ignoreCase))) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    private static bool Same(char a, char b, bool ignoreCase) => a == b || ignoreCase && char.ToLowerInvariant(a) == char.ToLowerInvariant(b);
}
