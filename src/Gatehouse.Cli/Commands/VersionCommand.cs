using System.CommandLine;
using System.Runtime.InteropServices;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse version</c>: which Gatehouse this is, and on what runtime (for bug reports and install checks).</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var format = CommandKit.DataFormatOption();
        var command = new Command("version", "Print the version of this gatehouse command and the .NET runtime it runs on") { format };
        command.SetGuardedAction((parse, _) =>
        {
            var version = Proxy.Web.PingEndpoint.Version;
            if (parse.GetValue(format) == "json")
                CommandKit.WriteJson(new { Version = version, Runtime = RuntimeInformation.FrameworkDescription, Platform = RuntimeInformation.RuntimeIdentifier });
            else
                Console.Out.WriteLine($"gatehouse {version} ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier})");
            return Task.FromResult(0);
        });
        return command;
    }
}
