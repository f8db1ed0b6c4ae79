using System.CommandLine;
using System.Net;
using Gatehouse.Cli.Configuration;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin fronts test</c>: what Gatehouse would make of a header captured from a balancer.</summary>
internal static class FrontsCommand
{
    public static Command Create()
    {
        var config = CommandKit.ConfigOption();
        var format = new Option<string>("--format") { Description = "The balancer's header format", Required = true };
        format.AcceptOnlyFromAmong([.. ForwardedCertificateFormats.ById.Keys]);
        var headerFile = new Option<string>("--header-file")
        {
            Description = "A captured header: either the bare value of the format's certificate header, or 'Name: value' lines (one per header)",
            Required = true,
        };
        var output = CommandKit.DataFormatOption();
        var test = new Command("test", "Decode a captured client-certificate header and show the identity Gatehouse would derive, or why not")
        {
            format, headerFile, config, output,
        };
        test.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var chosen = ForwardedCertificateFormats.ById[parse.GetValue(format)!];
            var path = parse.GetValue(headerFile)!;
            if (!File.Exists(path)) return CommandKit.Fail($"--header-file: {path} does not exist.");
            var headers = ReadHeaders(await File.ReadAllTextAsync(path, cancellationToken), chosen);
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            // The operator's renames for this format, if a front of it is configured.
            var names = settings.Proxy.TrustedFronts.FirstOrDefault(f => f.Format.Id == chosen.Id)?.Headers ?? chosen.DefaultHeaders;
            var front = new TrustedFront("test", chosen, [], names, null);
            var authenticator = new ForwardedCertificateAuthenticator(
                new ForwardedCertificateOptions([front], new DecodeLimits(MaxChainDepth: cluster.Options.Validation.MaxChainDepth)),
                cluster.Validator, () => cluster.Trust, new IdentityMapper(cluster.Options.IdentityMappings, cluster.Authorities.ClusterName), cluster.Time);
            var verdict = authenticator.Authenticate(front, headers, IPAddress.Loopback, out _);
            if (parse.GetValue(output) == "json")
                CommandKit.WriteJson(new
                {
                    Status = verdict.Status.ToString().ToLowerInvariant(), verdict.Reason, verdict.Message, verdict.Identity?.User,
                    Roles = verdict.Identity?.Roles, verdict.Certificate,
                });
            else if (verdict.Status == ForwardedStatus.Authenticated)
                Console.Out.WriteLine($"identity: {verdict.Identity!.User} (roles: {string.Join(", ", verdict.Identity.Roles)})\n" +
                                      $"certificate: {verdict.Certificate!.Subject}, issuer {verdict.Certificate.Issuer}, serial {verdict.Certificate.Serial}, " +
                                      $"{(verdict.Certificate.IssuedByGatehouse ? "issued by Gatehouse" : "company certificate")}");
            else
                Console.Out.WriteLine(verdict.Status == ForwardedStatus.NoCertificate
                    ? $"no certificate: none of {string.Join(", ", names.Values)} is in the file"
                    : $"refused ({verdict.Reason}): {verdict.Message}");
            return verdict.Status == ForwardedStatus.Authenticated ? 0 : 1;
        });
        return new Command("fronts", "Trusted fronts (balancers that forward client certificates)") { test };
    }

    /// <summary>"Name: value" lines when the file has them, else the whole file is the value of the certificate header.</summary>
    private static ReceivedHeaders ReadHeaders(string text, ForwardedCertificateFormat format)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        var known = format.DefaultHeaders.Values.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var values = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        if (lines.Count > 0 && lines.All(l => l.IndexOf(':') is > 0 and var colon && !l[..colon].Contains(' ') && (known.Contains(l[..colon]) || l[..colon].StartsWith("X-", StringComparison.OrdinalIgnoreCase))))
        {
            foreach (var group in lines.GroupBy(l => l[..l.IndexOf(':')], StringComparer.OrdinalIgnoreCase))
                values[group.Key] = [.. group.Select(l => l[(l.IndexOf(':') + 1)..].Trim())];
        }
        else
        {
            var main = format.DefaultHeaders.TryGetValue(HeaderRole.Cert, out var cert) ? cert : format.DefaultHeaders[HeaderRole.Leaf];
            values[main] = [text.TrimEnd('\r', '\n')];
        }
        return new ReceivedHeaders(values);
    }
}
