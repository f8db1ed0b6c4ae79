using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gatehouse.Cli.Configuration;
using Gatehouse.Cluster;

namespace Gatehouse.Cli.Commands;

/// <summary>What every verb shares: the --config and --format options, opening the cluster, and error reporting.</summary>
internal static class CommandKit
{
    public static Option<string?> ConfigOption() => new("--config")
    {
        Description = $"Configuration file (default: ./{GatehouseConfig.DefaultFileName} if present, else the embedded default data dir ./{ClusterOptions.DefaultDataDirectory})",
    };

    public static Option<string> DataFormatOption()
    {
        var option = new Option<string>("--format") { Description = "Output format", DefaultValueFactory = _ => "text" };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public static async Task<ClusterState> OpenClusterAsync(GatehouseConfig config, CancellationToken cancellationToken) =>
        await ClusterState.OpenAsync(config.Cluster, TimeProvider.System, create: false, cancellationToken);

    /// <summary>Runs a verb: input Gatehouse cannot use becomes one line on stderr and exit code 2, never a stack trace.</summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await action(parseResult, cancellationToken);
            }
            catch (Exception e) when (e is SetupException or ArgumentException)
            {
                Console.Error.WriteLine($"gatehouse: {e.Message}");
                return 2;
            }
        });

    /// <summary>Refusal of a request that was understood but cannot be done (exit code 1).</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"gatehouse: {message}");
        return 1;
    }
}
