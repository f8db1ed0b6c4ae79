using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Audit;
using Gatehouse.Cli.Configuration;
using Gatehouse.Client.Profiles;
using Gatehouse.Pki;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Ssh;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin certs issue|issue-host|revoke</c>: identities made by an operator, nodes' SSH host certificates,
/// and taking user certificates back.</summary>
internal static partial class CertsCommand
{
    public static Command Create() =>
        new("certs", "Certificates issued by an operator: users' (X.509 + OpenSSH) and nodes' SSH host certificates") { Issue(), IssueHost(), Revoke() };

    public const string AllowAboveMaxFlag = "--allow-ttl-above-max";

    private static Command Issue()
    {
        var config = CommandKit.ConfigOption();
        var user = new Option<string>("--user") { Description = "User name (the certificate's CN)", Required = true };
        var roles = new Option<string?>("--roles") { Description = "Comma-separated role names" };
        var logins = new Option<string?>("--logins") { Description = "Comma-separated OS logins (the SSH certificate's principals)" };
        var ttl = new Option<string?>("--ttl") { Description = "Time to live, e.g. 1h, 30m, 7d (default: pki.user_cert_ttl, 12h; at most pki.max_user_cert_ttl, by default 12h)" };
        var aboveMax = new Option<bool>(AllowAboveMaxFlag) { Description = "Allow a --ttl above pki.max_user_cert_ttl (the issue is audited as cert.ttl_above_max)" };
        var output = new Option<string>("--out") { Description = "Directory for cert.pem, key.pem, ca.pem, ssh-key, ssh-key.pub and ssh-cert.pub", Required = true };
        var format = CommandKit.DataFormatOption();
        var command = new Command("issue", "Issue a user certificate (X.509 + OpenSSH) with a key pair made here")
        {
            config, user, roles, logins, ttl, aboveMax, output, format,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            var lifetime = settings.UserCertTtl;
            if (parse.GetValue(ttl) is { } ttlText && !Durations.TryParse(ttlText, out lifetime))
                return CommandKit.Fail($"--ttl: '{ttlText}' is not a duration like 1h, 30m or 7d.");
            // The ceiling holds for operators too (issue 11); exceeding it takes a flag, and leaves a trace of its own.
            var max = settings.Cluster.MaxUserCertTtl;
            var exceeds = lifetime > max;
            if (exceeds && !parse.GetValue(aboveMax))
                return CommandKit.Fail($"--ttl {parse.GetValue(ttl)} is above pki.max_user_cert_ttl ({Durations.Format(max)}), the cluster's ceiling on user " +
                                       $"certificates; give a shorter --ttl, or add {AllowAboveMaxFlag} to issue it anyway (audited).");
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var identity = new Identity.Identity
            {
                User = parse.GetValue(user)!,
                Cluster = cluster.Authorities.ClusterName,
                Roles = CommandKit.SplitList(parse.GetValue(roles)),
                Logins = CommandKit.SplitList(parse.GetValue(logins)),
                IssuedVia = "admin",
            };

            if (exceeds)
                // Recorded before anything is issued, so no certificate above the ceiling exists without its trace.
                await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.CertificateTtlAboveMax, identity.User) with
                {
                    IdentitySource = "admin",
                    Decision = "allowed",
                    Reason = $"{Durations.Format(lifetime)} asked for with {AllowAboveMaxFlag}, above pki.max_user_cert_ttl ({Durations.Format(max)})",
                    Details = new Dictionary<string, string>
                    {
                        ["operator"] = Environment.UserName, ["ttl"] = Durations.Format(lifetime), ["max_user_cert_ttl"] = Durations.Format(max),
                    },
                }, cancellationToken);

            // The key pair is made here and written only to the output directory.
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var certificate = await cluster.Issuer.IssueUserAsync(identity, new PublicKey(key), lifetime, cancellationToken, allowAboveMax: exceeds);
            var ssh = await cluster.Issuer.IssueSshUserAsync(identity, key, lifetime, cancellationToken, allowAboveMax: exceeds);
            var files = new IdentityFiles(
                certificate.ExportCertificatePem(),
                key.ExportPkcs8PrivateKeyPem(),
                cluster.Authorities.User.Certificate.ExportCertificatePem(),
                ssh.ToAuthorizedKeysLine($"{identity.User}@{cluster.Authorities.ClusterName}"),
                OpenSshKeyFormat.PrivateKeyPem(key),
                OpenSshKeyFormat.PublicKeyLine(key, $"{identity.User}@{cluster.Authorities.ClusterName}")).WriteTo(parse.GetValue(output)!);
            // The cluster's host CA beside the identity: `gatehouse login --identity DIR` checks the proxy by it, no --ca needed.
            Storage.AtomicFile.Write(Path.Combine(parse.GetValue(output)!, ProfileStore.HostCaFile), cluster.Authorities.Host.Certificate.ExportCertificatePem() + "\n");

            var serial = SerialNumbers.Of(certificate);
            var details = new Dictionary<string, string> { ["roles"] = string.Join(",", identity.Roles), ["logins"] = string.Join(",", identity.Logins) };
            if (exceeds) details["above_max_user_cert_ttl"] = Durations.Format(lifetime);
            await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.CertificateIssued, identity.User) with
            {
                IdentitySource = "admin",
                CertificateIssuer = certificate.Issuer,
                CertificateSerial = serial,
                CertificateSha256 = Convert.ToHexString(SHA256.HashData(certificate.RawData)),
                Reason = $"issued by an administrator until {certificate.NotAfter.ToUniversalTime():u}",
                Details = details,
            }, cancellationToken);
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(new
                {
                    Serial = serial,
                    User = identity.User,
                    Cluster = cluster.Authorities.ClusterName,
                    Roles = identity.Roles,
                    Logins = identity.Logins,
                    NotBefore = certificate.NotBefore.ToUniversalTime(),
                    NotAfter = certificate.NotAfter.ToUniversalTime(),
                    SshSerial = ssh.Serial,
                    Files = files,
                });
                return 0;
            }
            Console.Out.WriteLine(serial);
            WriteIssuedSummary($"Issued a certificate for [bold]{Markup.Escape(identity.User)}[/] with serial {serial}:",
            [
                ("user", identity.User), ("roles", string.Join(", ", identity.Roles)), ("logins", string.Join(", ", identity.Logins)),
                ("valid until", $"{certificate.NotAfter.ToUniversalTime():u}"),
            ], files);
            return 0;
        });
        return command;
    }

    private static Command Revoke()
    {
        var config = CommandKit.ConfigOption();
        var serial = new Argument<string>("SERIAL") { Description = "Serial number as printed by `certs issue` (hex; colons allowed)" };
        var reason = new Option<string>("--reason") { Description = "Why (RFC 5280 reason)", DefaultValueFactory = _ => "unspecified" };
        reason.AcceptOnlyFromAmong([.. RevocationService.Reasons.Keys]);
        var format = CommandKit.DataFormatOption();
        var command = new Command("revoke", "Revoke a user certificate: refused at once by the proxy, and listed in the next exported CRL") { serial, config, reason, format };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            if (!SerialNumbers.TryParse(parse.GetValue(serial)!, out var canonical))
                return CommandKit.Fail($"'{parse.GetValue(serial)}' is not a serial number; give the hex serial that `gatehouse admin certs issue` printed.");
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var result = await cluster.Revocation.RevokeAsync(canonical, RevocationService.Reasons[parse.GetValue(reason)!], cancellationToken);
            var ok = result.Status is RevokeStatus.Revoked or RevokeStatus.AlreadyRevoked;
            if (result.Status == RevokeStatus.Revoked)
                await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.CertificateRevoked) with
                {
                    IdentitySource = "admin", CertificateSerial = result.Serial, Reason = $"{parse.GetValue(reason)}: {result.Message}",
                }, cancellationToken);
            if (parse.GetValue(format) == "json")
                CommandKit.WriteJson(new { result.Serial, Status = result.Status.ToString().ToLowerInvariant(), result.Message });
            else if (ok)
                Console.Out.WriteLine(result.Message);
            else
                Console.Error.WriteLine($"gatehouse: {result.Message}");
            return ok ? 0 : 1;
        });
        return command;
    }

    /// <summary>What was issued, as a table on standard error: standard output keeps only what scripts read.</summary>
    private static void WriteIssuedSummary(string headingMarkup, IEnumerable<(string Name, string Value)> rows, IReadOnlyDictionary<string, string> files)
    {
        var table = new Table().HideHeaders().AddColumn("").AddColumn("");
        foreach (var (name, value) in rows.Concat(files.Select(f => (f.Key, f.Value)))) table.AddRow(Markup.Escape(name), Markup.Escape(value));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.MarkupLine(headingMarkup);
        console.Write(table);
    }
}
