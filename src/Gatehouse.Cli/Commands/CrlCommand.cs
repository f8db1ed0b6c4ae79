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
        var export = new Command("export", "Sign and export a new CRL of the user CA (each export has the next CRL number)") { config, format, output };
        export.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var der = parse.GetValue(format) == "der";
            var path = parse.GetValue(output);
            if (der && path is null && !Console.IsOutputRedirected)
                return CommandKit.Fail("--format der is binary: give --out FILE or redirect standard output.");
            var crl = await cluster.Revocation.BuildCrlAsync(RevocationService.DefaultCrlValidity, cancellationToken);
            byte[] bytes = der ? crl : System.Text.Encoding.ASCII.GetBytes(PemEncoding.WriteString("X509 CRL", crl) + "\n");
            if (path is not null)
            {
                AtomicFile.Write(path, bytes);
                Console.Error.WriteLine($"wrote the user CA's CRL ({(der ? "DER" : "PEM")}, valid for {Durations.Format(RevocationService.DefaultCrlValidity)}) to {Path.GetFullPath(path)}");
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
