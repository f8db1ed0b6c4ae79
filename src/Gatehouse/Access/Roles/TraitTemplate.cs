namespace Gatehouse.Access.Roles;

/// <summary>
/// A value such as <c>admin-{{internal.logins}}</c>: a literal prefix and suffix around one trait reference.
/// Both namespaces read the user's traits (internal ones set by an operator, external ones from an identity
/// provider, stored alike); Teleport's functions such as <c>{{email.local(...)}}</c> are not supported.
/// </summary>
internal sealed record TraitTemplate(string Prefix, string Namespace, string Trait, string Suffix)
{
    public const string Internal = "internal";
    public const string External = "external";

    public static bool LooksLikeTemplate(string value) => value.Contains("{{", StringComparison.Ordinal) || value.Contains("}}", StringComparison.Ordinal);

    /// <summary>Parses <paramref name="value"/>; a value without braces is a literal (null template, no error).</summary>
    /// <returns>An error saying what is wrong and how to write it, or null.</returns>
    public static string? TryParse(string value, out TraitTemplate? template)
    {
        template = null;
        if (!LooksLikeTemplate(value))
        {
            return null;
        }

        var open = value.IndexOf("{{", StringComparison.Ordinal);
        var close = value.IndexOf("}}", StringComparison.Ordinal);
        if (open < 0 || close < open + 2)
        {
            return $"unbalanced braces in '{value}': write {{{{internal.NAME}}}} or {{{{external.NAME}}}}";
        }
        if (value.IndexOf("{{", open + 2, StringComparison.Ordinal) >= 0 || value.IndexOf("}}", close + 2, StringComparison.Ordinal) >= 0)
        {
            return $"'{value}' holds more than one template or stray braces: use one {{{{internal.NAME}}}} per value";
        }

        var inner = value[(open + 2)..close].Trim();
        var dot = inner.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return $"'{{{{{inner}}}}}' in '{value}' is not a trait reference: write {{{{internal.NAME}}}} or {{{{external.NAME}}}}";
        }
        var ns = inner[..dot];
        var trait = inner[(dot + 1)..];
        if (ns is not Internal and not External)
        {
            return $"unknown template namespace '{ns}' in '{value}': use internal or external";
        }
        if (trait.Length == 0)
        {
            return $"'{value}' names no trait: write {{{{{ns}.NAME}}}}, e.g. {{{{{ns}.logins}}}}";
        }
        if (!IsTraitName(trait))
        {
            return $"trait name '{trait}' in '{value}' may hold only letters, digits, '_' and '-'";
        }

        template = new TraitTemplate(value[..open], ns, trait, value[(close + 2)..]);
        return null;
    }

    /// <summary>
    /// The values <paramref name="value"/> stands for: itself when literal, one per trait value when a template,
    /// none when the trait is missing (Teleport drops such values rather than failing the role).
    /// </summary>
    public static IEnumerable<string> Expand(string value, IReadOnlyDictionary<string, IReadOnlyList<string>> traits)
    {
        // A malformed template only reaches here from a role built in code, not parsed; keep it literal.
        if (TryParse(value, out var template) is not null || template is null)
        {
            yield return value;
            yield break;
        }
        if (!traits.TryGetValue(template.Trait, out var traitValues))
        {
            yield break;
        }
        foreach (var traitValue in traitValues)
        {
            var expanded = template.Prefix + traitValue + template.Suffix;
            if (expanded.Length > 0)
            {
                yield return expanded;
            }
        }
    }

    private static bool IsTraitName(string name)
    {
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')
            {
                return false;
            }
        }
        return true;
    }
}
