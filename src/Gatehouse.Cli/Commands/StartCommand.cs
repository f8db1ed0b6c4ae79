using System.CommandLine;
using Gatehouse.Cli.Configuration;
using Gatehouse.Cluster;
using Gatehouse.Proxy.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse start</c>: create or open the data directory and run the proxy until stopped.</summary>
internal static class StartCommand
{
    public static Command Create()
    {
        var config = CommandKit.ConfigOption();
        var command = new Command("start", "Run the proxy. The first start creates the data directory, its SQLite store and the cluster's CAs.")
        {
            config,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            Action<string> retrying = line => Console.Error.WriteLine($"gatehouse: {line}");
            var firstStart = !await Cluster.ClusterState.ExistsAsync(settings.Cluster.Storage, settings.Cluster.DataDirectory, cancellationToken, retrying);
            await using var cluster = await ClusterState.OpenAsync(settings.Cluster, TimeProvider.System, create: true, cancellationToken, retrying);
            if (cluster.Trust.Errors.Count > 0)
                throw new SetupException($"the trust configuration has {cluster.Trust.Errors.Count} problem(s):\n  " + string.Join("\n  ", cluster.Trust.Errors));

            await using var proxy = await ProxyHost.CreateAsync(settings.Proxy, cluster, settings.UserCertTtl, logging => logging
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
                .SetMinimumLevel(LogLevel.Information)
                .AddFilter("Microsoft", LogLevel.Warning)
                .AddFilter("Yarp", LogLevel.Warning) // two Information lines per forwarded app request otherwise
                .AddFilter(typeof(Proxy.Authentication.ClientCertificateAuthenticationHandler).FullName, LogLevel.Warning), cancellationToken);
            await proxy.StartAsync(cancellationToken);

            var listen = settings.Proxy.Listen;
            var host = listen.Address.Equals(System.Net.IPAddress.Any) ? "127.0.0.1" : listen.Address.ToString();
            Console.WriteLine($"Gatehouse {Proxy.Web.PingEndpoint.Version}: cluster '{cluster.Authorities.ClusterName}', configuration: {settings.Source}");
            Console.WriteLine($"{(firstStart ? "Created" : "Opened")} the cluster in {cluster.Store.Description} (data directory {settings.Cluster.DataDirectory})");
            if (firstStart && settings.Cluster.Storage.Kind == Storage.StoreKind.Postgres && settings.Cluster.MasterKey is null)
                Console.WriteLine($"  The CA keys are sealed with {Path.Combine(settings.Cluster.DataDirectory, Pki.MasterKey.FileName)}: every proxy on this database needs the same key " +
                                  $"(copy the file, or set {Pki.MasterKey.EnvironmentVariable}).");
            Console.WriteLine($"Proxy listening on https://{listen} (public addresses: {string.Join(", ", settings.Proxy.PublicAddresses)})");
            if (settings.Proxy.HttpListen is { } httpListen)
                Console.WriteLine($"  and on http://{httpListen} for trusted fronts and proxies only (proxy.http_listen)");
            Console.WriteLine($"  check it:             curl -k https://{host}:{listen.Port}/v1/ping");
            Console.WriteLine($"  get an admin identity: ./gatehouse.sh admin certs issue --user admin --roles admin --out ./admin-identity");
            Console.WriteLine("Press Ctrl+C to stop.");
            await proxy.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
