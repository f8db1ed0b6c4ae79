using System.Text.RegularExpressions;

namespace Gatehouse.Access.Roles;

/// <summary>One accepted label value: <c>*</c> (anything), a glob with <c>*</c>, an anchored regex <c>^…$</c>, or a literal.</summary>
internal sealed class LabelPattern
{
    // Non-backtracking: linear time on any input, and close to the RE2 dialect Teleport roles are written in.
    private const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    private readonly Regex? _regex;
    private readonly bool _any;

    private LabelPattern(string text, Regex? regex, bool any, bool isValid)
    {
        Text = text;
        _regex = regex;
        _any = any;
        IsValid = isValid;
    }

    public string Text { get; }

    /// <summary>False for a regex that does not compile (possible only after a trait expanded into it).</summary>
    public bool IsValid { get; }

    public static bool IsRegex(string text) => text.Length >= 2 && text[0] == '^' && text[^1] == '$';

    /// <summary>Why <paramref name="text"/> cannot be a label value, or null when it can.</summary>
    public static string? Validate(string text)
    {
        if (text.Length > 1 && text[0] == '^' && text[^1] != '$')
        {
            return $"'{text}' starts with ^ but does not end with $: anchor a regex at both ends (^…$) or drop the ^";
        }
        if (IsRegex(text) && Compile(text, out var error) is null)
        {
            return $"regex '{text}' does not compile ({error}): fix it, or quote a literal value without ^ and $";
        }
        return null;
    }

    public static LabelPattern Create(string text)
    {
        if (text == RoleLabels.Wildcard)
        {
            return new LabelPattern(text, null, any: true, isValid: true);
        }
        if (IsRegex(text))
        {
            var compiled = Compile(text);
            return new LabelPattern(text, compiled, any: false, isValid: compiled is not null);
        }
        if (text.Contains('*', StringComparison.Ordinal))
        {
            var glob = "^" + Regex.Escape(text).Replace(@"\*", ".*", StringComparison.Ordinal) + "$";
            return new LabelPattern(text, new Regex(glob, Options), any: false, isValid: true);
        }
        return new LabelPattern(text, null, any: false, isValid: true);
    }

    /// <param name="whenInvalid">The answer for a pattern that does not compile: true on a deny rule, so it fails closed.</param>
    public bool Matches(string value, bool whenInvalid) =>
        !IsValid ? whenInvalid
        : _any || (_regex is null ? string.Equals(Text, value, StringComparison.Ordinal) : _regex.IsMatch(value));

    private static Regex? Compile(string text) => Compile(text, out _);

    private static Regex? Compile(string text, out string? error)
    {
        try
        {
            error = null;
            return new Regex(text, Options);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            error = e.Message;
            return null;
        }
    }
}

/// <summary>
/// A role's label map with templates expanded, matched as Teleport does: every key must be present on the resource
/// with a value one of its patterns accepts; <c>'*': '*'</c> matches every resource; an empty map matches none.
/// </summary>
internal sealed class LabelSelector
{
    private readonly IReadOnlyList<(string Key, IReadOnlyList<LabelPattern> Patterns)> _entries;
    private readonly bool _matchesEverything;

    private LabelSelector(IReadOnlyList<(string, IReadOnlyList<LabelPattern>)> entries, bool matchesEverything)
    {
        _entries = entries;
        _matchesEverything = matchesEverything;
    }

    public static LabelSelector Expand(IReadOnlyDictionary<string, IReadOnlyList<string>> labels, IReadOnlyDictionary<string, IReadOnlyList<string>> traits)
    {
        var entries = new List<(string, IReadOnlyList<LabelPattern>)>(labels.Count);
        var everything = false;
        foreach (var (key, values) in labels)
        {
            everything |= key == RoleLabels.Wildcard && values is [RoleLabels.Wildcard];
            var patterns = values.SelectMany(v => TraitTemplate.Expand(v, traits)).Distinct(StringComparer.Ordinal).Select(LabelPattern.Create).ToList();
            entries.Add((key, patterns));
        }
        return new LabelSelector(entries, everything);
    }

    /// <param name="failClosed">True for deny rules: a pattern that does not compile then counts as matching.</param>
    /// <param name="rule">On a match, the rule that matched as <c>env=prod, team=a*</c>, for the decision's reason.</param>
    public bool Matches(IReadOnlyDictionary<string, string> resourceLabels, bool failClosed, out string rule)
    {
        rule = "";
        if (_matchesEverything)
        {
            rule = "*=*";
            return true;
        }
        if (_entries.Count == 0)
        {
            return false;
        }

        var matched = new List<string>(_entries.Count);
        foreach (var (key, patterns) in _entries)
        {
            if (!resourceLabels.TryGetValue(key, out var value))
            {
                return false;
            }
            var pattern = patterns.FirstOrDefault(p => p.Matches(value, failClosed));
            if (pattern is null)
            {
                return false;
            }
            matched.Add($"{key}={pattern.Text}");
        }
        rule = string.Join(", ", matched);
        return true;
    }
}
