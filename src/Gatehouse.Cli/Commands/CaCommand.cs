using System.CommandLine;
using Gatehouse.Cli.Configuration;
using Gatehouse.Pki;
using Gatehouse.Storage;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin ca export</c>: the CA certificates and keys people hand to balancers and servers.</summary>
internal static class CaCommand
{
    public static Command Create()
    {
        var config = CommandKit.ConfigOption();
        var kind = new Option<string>("--kind") { Description = "Which authority", DefaultValueFactory = _ => Authorities.UserKind };
        kind.AcceptOnlyFromAmong(Authorities.UserKind, Authorities.HostKind, Authorities.SshUserKind);
        var format = new Option<string?>("--format")
        {
            Description = "pem: the CA certificate; alb: an AWS ALB trust-store bundle (user CA plus trust.client_ca_files, no blank lines, no comments); " +
                          "openssh: the SSH user CA for sshd's TrustedUserCAKeys. Default: pem, or openssh for --kind ssh-user",
        };
        format.AcceptOnlyFromAmong("pem", "alb", "openssh");
        var output = new Option<string?>("--out") { Description = "Write to this file (atomically) instead of standard output" };
        var export = new Command("export", "Export a certificate authority's public part") { config, kind, format, output };
        export.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var which = parse.GetValue(kind)!;
            var how = parse.GetValue(format) ?? (which == Authorities.SshUserKind ? "openssh" : "pem");
            string text;
            switch (which, how)
            {
                case (Authorities.SshUserKind, "openssh"):
                    text = cluster.Authorities.SshUser.PublicKeyLine + "\n";
                    break;
                case (Authorities.SshUserKind, _):
                    return CommandKit.Fail("the ssh-user CA is an OpenSSH key, not an X.509 certificate: use --format openssh.");
                case (_, "openssh"):
                    return CommandKit.Fail($"--format openssh is for --kind ssh-user; the {which} CA is an X.509 certificate (use pem or alb).");
                case (Authorities.HostKind, "alb"):
                    return CommandKit.Fail("an ALB trust store holds the CAs of client certificates: export --kind user --format alb.");
                case (Authorities.UserKind, "alb"):
                    if (cluster.Trust.Errors.Count > 0)
                        return CommandKit.Fail("the trust configuration has problems, so the bundle would be incomplete:\n  " + string.Join("\n  ", cluster.Trust.Errors));
                    text = cluster.Trust.ExportBundle();
                    break;
                default:
                    var ca = which == Authorities.UserKind ? cluster.Authorities.User : cluster.Authorities.Host;
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
}
