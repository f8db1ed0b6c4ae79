using System.CommandLine;
using Gatehouse.Cli.Configuration;
using Gatehouse.Pki;
using Gatehouse.Pki.Ssh;
using Gatehouse.Storage;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin ca export</c>: the CA certificates and keys people hand to balancers and servers.</summary>
internal static class CaCommand
{
    private const string Pem = "pem", Alb = "alb", OpenSsh = "openssh", KnownHosts = "known_hosts";

    public static Command Create()
    {
        var config = CommandKit.ConfigOption();
        var kind = new Option<string>("--kind") { Description = "Which authority (db-client: the CA databases trust for the proxy's logins, PostgreSQL's ssl_ca_file)", DefaultValueFactory = _ => Authorities.UserKind };
        kind.AcceptOnlyFromAmong(Authorities.UserKind, Authorities.HostKind, Authorities.SshUserKind, Authorities.SshHostKind, Authorities.DbClientKind);
        var format = new Option<string?>("--format")
        {
            Description = "pem: the CA certificate; alb: an AWS ALB trust-store bundle (user CA plus trust.client_ca_files, no blank lines, no comments); " +
                          "openssh: an SSH CA's public key line (for sshd's TrustedUserCAKeys with --kind ssh-user); " +
                          "known_hosts: the SSH host CA's @cert-authority line for ssh's known_hosts. " +
                          "Default: pem, openssh for --kind ssh-user, known_hosts for --kind ssh-host",
        };
        format.AcceptOnlyFromAmong(Pem, Alb, OpenSsh, KnownHosts);
        var hosts = new Option<string?>("--hosts")
        {
            Description = "With --format known_hosts: the comma-separated host patterns the CA is trusted for, e.g. *.example.com,10.0.0.* (default: *)",
        };
        var output = new Option<string?>("--out") { Description = "Write to this file (atomically) instead of standard output" };
        var export = new Command("export", "Export a certificate authority's public part") { config, kind, format, hosts, output };
        export.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var which = parse.GetValue(kind)!;
            var how = parse.GetValue(format) ?? which switch
            {
                Authorities.SshUserKind => OpenSsh,
                Authorities.SshHostKind => KnownHosts,
                _ => Pem,
            };
            var patterns = parse.GetValue(hosts);
            if (FormatProblem(which, how, patterns) is { } problem)
                return CommandKit.Fail(problem);
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            string text;
            switch (which, how)
            {
                case (Authorities.SshUserKind, OpenSsh):
                    text = cluster.Authorities.SshUser.PublicKeyLine + "\n";
                    break;
                case (Authorities.SshHostKind, OpenSsh):
                    text = cluster.Authorities.SshHost.PublicKeyLine + "\n";
                    break;
                case (Authorities.SshHostKind, KnownHosts):
                    text = cluster.Authorities.SshHost.KnownHostsLine(patterns ?? "*") + "\n";
                    break;
                case (Authorities.UserKind, Alb):
                    if (cluster.Trust.Errors.Count > 0)
                        return CommandKit.Fail("the trust configuration has problems, so the bundle would be incomplete:\n  " + string.Join("\n  ", cluster.Trust.Errors));
                    text = cluster.Trust.ExportBundle();
                    break;
                default:
                    var ca = which switch
                    {
                        Authorities.UserKind => cluster.Authorities.User,
                        Authorities.DbClientKind => cluster.Authorities.DbClient,
                        _ => cluster.Authorities.Host,
                    };
                    text = ca.Certificate.ExportCertificatePem().ReplaceLineEndings("\n") + "\n";
                    break;
            }
            if (parse.GetValue(output) is { } path)
            {
                AtomicFile.Write(path, text);
                Console.Error.WriteLine($"wrote the {which} CA ({how}) to {Path.GetFullPath(path)}");
            }
            else
            {
                Console.Out.Write(text);
            }
            return 0;
        });
        return new Command("ca", "Certificate authorities") { export };
    }

    /// <summary>Why this kind cannot be exported in this form, or null; checked before the cluster is opened.</summary>
    private static string? FormatProblem(string kind, string format, string? hostPatterns)
    {
        var ssh = kind is Authorities.SshUserKind or Authorities.SshHostKind;
        if (hostPatterns is not null && (kind, format) != (Authorities.SshHostKind, KnownHosts))
            return "--hosts narrows the host CA's known_hosts line: use it with --kind ssh-host --format known_hosts.";
        return (kind, format) switch
        {
            (Authorities.SshUserKind, KnownHosts) =>
                "a known_hosts line trusts the SSH host CA (--kind ssh-host); the ssh-user CA goes into sshd's TrustedUserCAKeys with --format openssh.",
            (_, OpenSsh or KnownHosts) when !ssh =>
                $"--format {format} is for --kind ssh-user or --kind ssh-host; the {kind} CA is an X.509 certificate (use pem or alb).",
            (_, Pem or Alb) when ssh =>
                $"the {kind} CA is an OpenSSH key, not an X.509 certificate: use --format openssh" +
                (kind == Authorities.SshHostKind ? " or known_hosts." : "."),
            (Authorities.HostKind or Authorities.DbClientKind, Alb) => "an ALB trust store holds the CAs of client certificates: export --kind user --format alb.",
            (Authorities.SshHostKind, KnownHosts) when hostPatterns is not null && OpenSshKnownHosts.ProblemWith(hostPatterns) is { } problem =>
                $"--hosts: {problem}.",
            _ => null,
        };
    }
}
