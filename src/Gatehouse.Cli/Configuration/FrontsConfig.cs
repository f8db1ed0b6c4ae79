using System.Net;
using System.Text;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using DistinguishedNames = Gatehouse.X500.DistinguishedNames;

namespace Gatehouse.Cli.Configuration;

/// <summary>Validates proxy.trusted_fronts, proxy.trusted_proxies and identity_mappings, adding one error per problem.</summary>
internal static class FrontsConfig
{
    private static readonly Dictionary<string, HeaderRole> Roles = Enum.GetValues<HeaderRole>().ToDictionary(r => r.ToString().ToLowerInvariant());

    public static IReadOnlyList<TrustedFront> Fronts(List<ConfigFile.FrontSection>? sections, List<string> errors)
    {
        var fronts = new List<TrustedFront>();
        var names = new HashSet<string>();
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"proxy.trusted_fronts[{i}]";
            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(section.Name)) errors.Add($"{key}.name: required (a name for audit and /v1/whoami, e.g. alb)");
            else if (!names.Add(section.Name)) errors.Add($"{key}.name: '{section.Name}' is used by another front");
            ForwardedCertificateFormat? format = null;
            if (section.Format is null || !ForwardedCertificateFormats.ById.TryGetValue(section.Format, out format))
                errors.Add($"{key}.format: '{section.Format}' is not one of {string.Join(", ", ForwardedCertificateFormats.ById.Keys)}");
            var networks = Networks(section.SourceCidrs, $"{key}.source_cidrs", errors);
            if (section.SourceCidrs is null || section.SourceCidrs.Count == 0)
                errors.Add($"{key}.source_cidrs: required — the balancer's addresses or subnets; headers from anywhere else are removed");
            var headers = new Dictionary<HeaderRole, string>(format?.DefaultHeaders ?? new Dictionary<HeaderRole, string>());
            foreach (var (roleName, header) in section.Headers ?? [])
            {
                if (!Roles.TryGetValue(roleName, out var role) || format is not null && !format.DefaultHeaders.ContainsKey(role))
                    errors.Add($"{key}.headers.{roleName}: format {section.Format} has no such header; it uses {string.Join(", ", (format?.DefaultHeaders.Keys ?? []).Select(r => r.ToString().ToLowerInvariant()))}");
                else if (string.IsNullOrWhiteSpace(header) || header.Any(c => c <= ' ' || c == ':'))
                    errors.Add($"{key}.headers.{roleName}: '{header}' is not a header name");
                else headers[role] = header;
            }
            SharedSecretHeader? secret = null;
            if (section.SharedSecretHeader is { } s)
            {
                var value = s.ValueEnv is null ? null : Environment.GetEnvironmentVariable(s.ValueEnv);
                if (string.IsNullOrWhiteSpace(s.Name)) errors.Add($"{key}.shared_secret_header.name: required");
                if (string.IsNullOrWhiteSpace(s.ValueEnv)) errors.Add($"{key}.shared_secret_header.value_env: required (the environment variable holding the secret; secrets do not go in this file)");
                else if (string.IsNullOrEmpty(value)) errors.Add($"{key}.shared_secret_header.value_env: the environment variable {s.ValueEnv} is not set");
                else if (value.Length < 16) errors.Add($"{key}.shared_secret_header.value_env: the secret in {s.ValueEnv} is shorter than 16 characters");
                if (errors.Count == before) secret = new SharedSecretHeader(s.Name!, Encoding.UTF8.GetBytes(value!));
            }
            var bind = true;
            switch (section.BindTunnelIdentity)
            {
                case null or "required": break;
                case "off": bind = false; break;
                case var other: errors.Add($"{key}.bind_tunnel_identity: '{other}' is not one of required, off"); break;
            }
            if (errors.Count == before) fronts.Add(new TrustedFront(section.Name!, format!, networks, headers, secret) { BindTunnelIdentity = bind });
        }
        return fronts;
    }

    public static IReadOnlyList<IPNetwork> Networks(List<string>? values, string key, List<string> errors)
    {
        var networks = new List<IPNetwork>();
        for (var i = 0; i < (values?.Count ?? 0); i++)
        {
            var text = values![i].Trim();
            if (IPAddress.TryParse(text, out var single))
                networks.Add(new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            else if (IPNetwork.TryParse(text, out var network))
                networks.Add(network);
            else
                errors.Add($"{key}[{i}]: '{text}' is not an address or a CIDR block like 10.0.0.0/16 (the host bits must be zero)");
        }
        return networks;
    }

    public static IReadOnlyList<IdentityMappingRule> Mappings(List<ConfigFile.MappingSection>? sections, List<string> errors)
    {
        var rules = new List<IdentityMappingRule>();
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"identity_mappings[{i}]";
            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(section.Issuer)) errors.Add($"{key}.issuer: required (the issuing CA's name, e.g. \"CN=Corp Device CA,O=Corp\")");
            else if (DistinguishedNames.CheckSyntax(section.Issuer) is { } parseError)
                errors.Add($"{key}.issuer: '{section.Issuer}' is not an RFC 2253 name like \"CN=Corp Device CA,O=Corp\": {parseError}");
            if (section.User is null) errors.Add($"{key}.user: required, e.g. \"{{email.local}}\"");
            else if (IdentityMapper.CheckTemplate(section.User) is { } templateError) errors.Add($"{key}.user: {templateError}");
            if (section.SanEmail is null && section.SanDns is null && section.SanUri is null && section.SubjectCn is null)
                errors.Add($"{key}: give at least one of san_email, san_dns, san_uri, subject_cn (a rule matching a whole CA is too broad to be an accident)");
            if (errors.Count == before)
                rules.Add(new IdentityMappingRule(section.Issuer!, section.SanEmail, section.SanDns, section.SanUri, section.SubjectCn, section.User!,
                    section.Roles ?? []));
        }
        return rules;
    }
}
