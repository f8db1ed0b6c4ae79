using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

using Gatehouse.X500;

namespace Gatehouse.Identity;

/// <summary>
/// One rule that turns a company certificate into a Gatehouse identity (identity_mappings[i]): the issuer must be
/// <see cref="Issuer"/> exactly, and every matcher given must match (globs with <c>*</c>). The first rule that matches
/// wins.
/// </summary>
/// <param name="User">Template: {email}, {email.local}, {cn}, {dns}, {san_uri}, {san_uri.path}, and literal text.</param>
/// <param name="Issuer">RFC 2253, compared attribute by attribute with the certificate's issuer.</param>
internal sealed record IdentityMappingRule(
    string Issuer,
    string? SanEmail,
    string? SanDns,
    string? SanUri,
    string? SubjectCn,
    string User,
    IReadOnlyList<string> Roles);

internal sealed record MappingResult(Identity? Identity, string? Error);

/// <summary>From a validated certificate to the identity it stands for.</summary>
internal sealed partial class IdentityMapper(IReadOnlyList<IdentityMappingRule> rules, string clusterName)
{
    public static readonly string[] TemplateVariables = ["email", "email.local", "cn", "dns", "san_uri", "san_uri.path"];

    [GeneratedRegex(@"\{([a-z_.]+)\}")]
    private static partial Regex Variable();

    /// <summary>Gatehouse's own certificates carry their identity; company certificates go through the rules.</summary>
    public MappingResult Map(X509Certificate2 leaf, bool issuedByGatehouse, string issuedVia)
    {
        if (issuedByGatehouse)
            return IdentityExtension.TryDecode(leaf, out var own, out var error)
                ? new MappingResult(own with { Cluster = clusterName }, null)
                : new MappingResult(null, error);

        var names = SubjectAlternativeNames.Of(leaf);
        var cn = leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        foreach (var rule in rules)
        {
            if (DistinguishedNames.Compare(rule.Issuer, leaf.IssuerName) is not null) continue;
            var email = Pick(rule.SanEmail, names.Emails);
            var dns = Pick(rule.SanDns, names.DnsNames);
            var uri = Pick(rule.SanUri, names.Uris);
            if ((rule.SanEmail is not null && email is null) || (rule.SanDns is not null && dns is null) || (rule.SanUri is not null && uri is null)
                || (rule.SubjectCn is not null && !Glob(rule.SubjectCn, cn)))
                continue;
            var user = Expand(rule.User, email ?? names.Emails.FirstOrDefault(), cn, dns ?? names.DnsNames.FirstOrDefault(), uri ?? names.Uris.FirstOrDefault());
            if (user is null || UserNames.Check(user) is not null)
                return new MappingResult(null, $"the identity mapping for issuer {leaf.Issuer} gives no usable user name from '{rule.User}' for subject {leaf.Subject}");
            return new MappingResult(new Identity { User = user, Cluster = clusterName, Roles = rule.Roles, IssuedVia = issuedVia }, null);
        }
        return new MappingResult(null, $"no identity mapping for issuer {leaf.Issuer} / subject {leaf.Subject}; add an identity_mappings rule for it");
    }

    /// <summary>Null when the template is well formed, else why not.</summary>
    public static string? CheckTemplate(string template)
    {
        if (string.IsNullOrWhiteSpace(template)) return "the user template is empty";
        foreach (Match match in Variable().Matches(template))
            if (!TemplateVariables.Contains(match.Groups[1].Value))
                return $"unknown variable {{{match.Groups[1].Value}}}; use one of {string.Join(", ", TemplateVariables.Select(v => "{" + v + "}"))}";
        var rest = Variable().Replace(template, "");
        return rest.Contains('{') || rest.Contains('}') ? $"'{template}' has an unbalanced brace" : null;
    }

    private static string? Pick(string? pattern, IReadOnlyList<string> values) =>
        pattern is null ? null : values.FirstOrDefault(v => Glob(pattern, v));

    private static bool Glob(string pattern, string value) =>
        Regex.IsMatch(value, "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    private static string? Expand(string template, string? email, string cn, string? dns, string? uri)
    {
        var missing = false;
        var result = Variable().Replace(template, match =>
        {
            var value = match.Groups[1].Value switch
            {
                "email" => email,
                "email.local" => email is null ? null : email[..Math.Max(0, email.IndexOf('@') is var at && at >= 0 ? at : email.Length)],
                "cn" => cn.Length > 0 ? cn : null,
                "dns" => dns,
                "san_uri" => uri,
                "san_uri.path" => uri is not null && Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? parsed.AbsolutePath.Trim('/') : null,
                _ => null,
            };
            missing |= string.IsNullOrEmpty(value);
            return value ?? "";
        });
        return missing ? null : result;
    }
}
