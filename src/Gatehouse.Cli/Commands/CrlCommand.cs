using System.CommandLine;
using System.Security.Cryptography;
using Gatehouse.Cli.Configuration;
using Gatehouse.Pki.Revocation;
using Gatehouse.Storage;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin crl export</c>: a fresh CRL of the user CA, e.g. for an ALB trust store.</summary>
internal static class CrlCommand
{
    public static Command Create()
    {
        var config = CommandKit.ConfigOption();
        var format = new Option<string>("--format") { Description = "pem or der", DefaultValueFactory = _ => "pem" };
        format.AcceptOnlyFromAmong("pem", "der");
        var output = new Option<string?>("--out") { Description = "Write to this file (atomically) instead of standard output" };
        var validFor = new Option<string?>("--valid-for")
        {
            Description = "How long the CRL is good for: its nextUpdate is now plus this (default 7d, at most 365d). A balancer holding it must get a new one before then",
        };
        var export = new Command("export", "Sign and export a new CRL of the user CA (each export has the next CRL number)") { config, format, output, validFor };
        export.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var validity = RevocationService.DefaultCrlValidity;
            if (parse.GetValue(validFor) is { } text && (!Durations.TryParse(text, out validity) || validity > TimeSpan.FromDays(365)))
                return CommandKit.Fail($"--valid-for: '{text}' is not a duration between 1s and 365d, like 7d or 12h.");
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var der = parse.GetValue(format) == "der";
            var path = parse.GetValue(output);
            if (der && path is null && !Console.IsOutputRedirected)
                return CommandKit.Fail("--format der is binary: give --out FILE or redirect standard output.");
            var crl = await cluster.Revocation.BuildCrlAsync(validity, cancellationToken);
            var nextUpdate = cluster.Time.GetUtcNow() + validity;
            byte[] bytes = der ? crl : System.Text.Encoding.ASCII.GetBytes(PemEncoding.WriteString("X509 CRL", crl) + "\n");
            if (path is not null)
            {
                AtomicFile.Write(path, bytes);
                Console.Error.WriteLine($"wrote the user CA's CRL ({(der ? "DER" : "PEM")}, valid for {Durations.Format(validity)}) to {Path.GetFullPath(path)}; " +
                                        $"its nextUpdate is {nextUpdate:u}: give balancers a new one before then");
            }
            else
            {
                using var stdout = Console.OpenStandardOutput();
                stdout.Write(bytes);
            }
            return 0;
        });
        return new Command("crl", "Certificate revocation lists") { export };
    }
}
