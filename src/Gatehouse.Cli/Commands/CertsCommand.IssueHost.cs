using System.CommandLine;
using System.Security.Cryptography;
using Gatehouse.Audit;
using Gatehouse.Cli.Configuration;
using Gatehouse.Pki;
using Gatehouse.Pki.Ssh;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin certs issue-host --ssh</c>: a node's sshd gets a host key and a certificate from the SSH host
/// CA, so clients trust it through the CA (issue 13) rather than by its fingerprint on first use.</summary>
internal static partial class CertsCommand
{
    private static Command IssueHost()
    {
        var config = CommandKit.ConfigOption();
        var ssh = new Option<bool>("--ssh") { Description = "Issue an OpenSSH host certificate for a node's sshd (required: the only kind this verb issues)" };
        var name = new Option<string>("--name") { Description = "The node's name (the certificate's key id, shown in sshd and audit logs)", Required = true };
        var principals = new Option<string>("--principals")
        {
            Description = "Comma-separated host names and addresses clients use for the node, e.g. node1,node1.example.com,10.0.0.5", Required = true,
        };
        var ttl = new Option<string?>("--ttl") { Description = $"Time to live, e.g. 8760h, 90d (default: {Durations.Format(CertificateIssuer.DefaultSshHostTtl)})" };
        var output = new Option<string>("--out")
        {
            Description = $"Directory for {string.Join(", ", SshHostKeyFiles.Names)} (the key is made here and written only there, owner-only)",
            Required = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace host key files already in --out" };
        var format = CommandKit.DataFormatOption();
        var command = new Command("issue-host", "Issue a node's SSH host key and host certificate, for sshd's HostKey and HostCertificate")
        {
            config, ssh, name, principals, ttl, output, force, format,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            if (!parse.GetValue(ssh))
                return CommandKit.Fail("issue-host needs --ssh: it issues OpenSSH host certificates for nodes' sshd. X.509 host certificates are " +
                                       "not issued this way (the proxy makes its own at start).");
            var lifetime = CertificateIssuer.DefaultSshHostTtl;
            if (parse.GetValue(ttl) is { } ttlText && !Durations.TryParse(ttlText, out lifetime))
                return CommandKit.Fail($"--ttl: '{ttlText}' is not a duration like 8760h, 90d or 1h30m.");
            var hosts = CommandKit.SplitList(parse.GetValue(principals));
            if (CertificateIssuer.SshHostPrincipalsProblem(hosts) is { } problem)
                return CommandKit.Fail($"--principals: {problem}.");
            var directory = Path.GetFullPath(parse.GetValue(output)!);
            if (OutputProblem(directory, parse.GetValue(force)) is { } outputProblem)
                return CommandKit.Fail(outputProblem);

            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            // The host key is made here and written only to --out: it never passes through the store or the network.
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var node = parse.GetValue(name)!;
            var certificate = await cluster.Issuer.IssueSshHostAsync(node, hosts, key, lifetime, cancellationToken);
            IReadOnlyDictionary<string, string> files;
            try
            {
                files = SshHostKeyFiles.For(key, certificate, $"{node}@{cluster.Authorities.ClusterName}").WriteTo(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return CommandKit.Fail($"--out: cannot write the host key files to {directory} ({e.Message.TrimEnd('.')}); none of them was written.");
            }

            var serial = SerialNumbers.FromUInt64(certificate.Serial);
            await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.CertificateIssued) with
            {
                IdentitySource = "admin",
                Resource = node,
                CertificateIssuer = cluster.Authorities.SshHost.Fingerprint,
                CertificateSerial = serial,
                CertificateSha256 = Convert.ToHexString(SHA256.HashData(certificate.Blob)),
                Reason = $"SSH host certificate issued by an administrator until {certificate.ValidBefore:u}",
                Details = new Dictionary<string, string>
                {
                    ["kind"] = Authorities.SshHostKind, ["principals"] = string.Join(",", certificate.Principals), ["operator"] = Environment.UserName,
                },
            }, cancellationToken);

            var sshdConfig = SshHostKeyFiles.SshdConfigLines(directory);
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(new
                {
                    Name = node,
                    Principals = certificate.Principals,
                    Serial = certificate.Serial,
                    ValidAfter = certificate.ValidAfter,
                    ValidBefore = certificate.ValidBefore,
                    CaFingerprint = cluster.Authorities.SshHost.Fingerprint,
                    Files = files,
                    SshdConfig = sshdConfig,
                });
                return 0;
            }
            WriteIssuedSummary($"Issued an SSH host certificate for [bold]{Markup.Escape(node)}[/] with serial {certificate.Serial}:",
            [
                ("node", node), ("principals", string.Join(", ", certificate.Principals)), ("valid until", $"{certificate.ValidBefore:u}"),
            ], files);
            Console.Error.WriteLine("Add these lines to the node's sshd_config and reload sshd:");
            foreach (var line in sshdConfig) Console.Out.WriteLine(line);
            return 0;
        });
        return command;
    }

    /// <summary>Why the host key files cannot go to <paramref name="directory"/>, checked before anything is issued.</summary>
    private static string? OutputProblem(string directory, bool replace)
    {
        if (File.Exists(directory))
            return $"--out: {directory} is a file; give a directory for the host key files.";
        var existing = SshHostKeyFiles.PathsIn(directory).Where(p => File.Exists(p.Value)).Select(p => p.Key).ToList();
        if (existing.Count > 0 && !replace)
            return $"--out: {directory} already holds {string.Join(", ", existing)}; add --force to replace them (clients that trusted the " +
                   "old key by its fingerprint will be warned), or choose another directory.";
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"--out: cannot create {directory} ({e.Message.TrimEnd('.')}).";
        }
        return null;
    }
}
