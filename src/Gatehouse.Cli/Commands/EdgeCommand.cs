using System.CommandLine;
using Gatehouse.Cli.Configuration;
using Gatehouse.Edge.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse edge --config edge.yaml</c>: run the AWS ALB-compatible mutual-TLS front until stopped (docs/edge.md).</summary>
internal static class EdgeCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config")
        {
            Description = "The edge's configuration (listeners, target groups, attributes; docs/edge.md)",
            Required = true,
        };
        var command = new Command("edge", "Run an AWS ALB-compatible HTTPS front with mutual TLS (off, passthrough, verify) in front of Gatehouse or any app") { config };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var options = EdgeConfig.Load(parse.GetValue(config)!);
            await using var edge = EdgeHost.Create(options, logging => logging
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
                .SetMinimumLevel(LogLevel.Information)
                .AddFilter("Microsoft", LogLevel.Warning)
                .AddFilter("Yarp", LogLevel.Error), TimeProvider.System); // a failed forward is the edge's own line (7006)
            await edge.StartAsync(cancellationToken);
            foreach (var listener in options.Listeners)
                Console.WriteLine($"Edge listening on https://{listener.Listen} (mutual TLS {listener.Mtls.Mode.ToString().ToLowerInvariant()}) → " +
                                  string.Join(", ", listener.Rules.Select(r => $"{r.Host ?? "*"}{r.Path ?? ""} → {r.TargetGroup}")
                                      .Concat(listener.DefaultTargetGroup is { } d ? [$"default → {d}"] : [])));
            foreach (var group in options.TargetGroups)
                Console.WriteLine($"  target group {group.Name}: {group.Protocol.ToString().ToUpperInvariant()} {string.Join(", ", group.Targets.Select(t => $"{t.Host}:{t.Port}"))}");
            Console.WriteLine("Press Ctrl+C to stop.");
            await edge.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
