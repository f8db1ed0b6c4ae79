using System.CommandLine;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Profiles;
using Gatehouse.Storage;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse app login NAME</c>: the certificate, key and CA files for an HTTP app, and the curl line that uses them.</summary>
internal static class AppCommand
{
    public static Command Create() => new("app", "HTTP apps behind the proxy") { Login() };

    private static Command Login()
    {
        var name = new Argument<string>("NAME") { Description = "The HTTP app, as registered with the proxy" };
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var viaFront = new Option<bool>("--via-front") { Description = "An mTLS balancer is in front: curl trusts its certificate, not the host CA" };
        var output = new Option<string?>("--out") { Description = "Where to write cert.pem, key.pem and host-ca.pem (default: ./gatehouse-app-NAME)" };
        var command = new Command("login", "Write the files curl needs for app NAME and print the curl line")
        {
            name, proxy, viaFront, output,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var app = parse.GetValue(name)!;
            if (!KubeCommand.IsLabel(app)) return CommandKit.Fail($"'{app}' is not an app name (one DNS label).");
            var profiles = ProfileStore.Default();
            var options = DialerSetup.Create(profiles, parse.GetValue(proxy), null, insecure: false, requireIdentity: true, warnings: Console.Error);
            var address = options.Proxy.ToString();
            var (deployment, reason) = await HttpDeploymentDetector.DetectAsync(options, parse.GetValue(viaFront), cancellationToken);
            if (deployment is null) return CommandKit.Fail(reason);
            if (deployment == HttpDeployment.NeedsLocalProxy)
                return CommandKit.Fail($"{reason}. curl cannot present its certificate through it; run the local proxy instead: "
                    + $"`gatehouse proxy app {app}` (then curl http://127.0.0.1:PORT/). Nothing was written. If the balancer does forward "
                    + "client certificates, pass --via-front.");

            var profile = profiles.DirectoryOf(address);
            var directory = Path.GetFullPath(parse.GetValue(output) ?? $"gatehouse-app-{app}");
            Directory.CreateDirectory(directory);
            var cert = Path.Combine(directory, IdentityFiles.Certificate);
            var key = Path.Combine(directory, IdentityFiles.PrivateKey);
            var hostCa = Path.Combine(directory, ProfileStore.HostCaFile);
            AtomicFile.Write(key, File.ReadAllBytes(Path.Combine(profile, IdentityFiles.PrivateKey)), AtomicFile.OwnerOnly);
            AtomicFile.Write(cert, File.ReadAllBytes(Path.Combine(profile, IdentityFiles.Certificate)));
            AtomicFile.Write(hostCa, File.ReadAllBytes(Path.Combine(profile, ProfileStore.HostCaFile)));
            var caPart = deployment == HttpDeployment.Direct ? $" --cacert {Quote(hostCa)}" : "";
            Console.Out.WriteLine($"Deployment: {HttpDeploymentDetector.Describe(deployment.Value)} ({reason}).");
            Console.Out.WriteLine($"Wrote {IdentityFiles.Certificate}, {IdentityFiles.PrivateKey} and {ProfileStore.HostCaFile} to {directory}.");
            Console.Out.WriteLine($"curl --cert {Quote(cert)} --key {Quote(key)}{caPart} https://{address}/apps/{app}/");
            return 0;
        });
        return command;
    }

    /// <summary>A path as a shell word: as is when it is plain, else single-quoted.</summary>
    private static string Quote(string path) =>
        path.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '/' or '.' or '_' or '-' or ':' or '+' or '@' or ',')
            ? path : "'" + path.Replace("'", "'\\''") + "'";
}
