using System.CommandLine;
using Gatehouse.Cli.Configuration;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse config check</c>: validate a configuration file without starting anything (every problem at once).</summary>
internal static class ConfigCheckCommand
{
    public static Command Create()
    {
        var config = CommandKit.ConfigOption();
        var command = new Command("check", "Check a configuration file without starting the proxy: every problem, each with its key and line") { config };
        command.SetGuardedAction((parse, _) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            var proxy = settings.Proxy;
            Console.Out.WriteLine($"{settings.Source}: OK. Cluster '{settings.Cluster.ClusterName}', listening on {proxy.Listen}, public addresses " +
                                  $"{string.Join(", ", proxy.PublicAddresses)}; {proxy.SshNodes.Count} SSH node(s), {proxy.TcpApps.Count} TCP app(s), " +
                                  $"{proxy.HttpApps.Count} HTTP app(s), {proxy.KubeClusters.Count} Kubernetes cluster(s), {proxy.TrustedFronts.Count} trusted front(s).");
            return Task.FromResult(0);
        });
        return command;
    }
}
