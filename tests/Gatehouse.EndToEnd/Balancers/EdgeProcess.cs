using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// The real <c>gatehouse edge --config edge.yaml</c> as a front, in a folder of the caller's: the YAML is written there
/// (with its connection and access logs beside it), the command started and awaited until it says it listens; stopped by
/// PID on dispose.
/// </summary>
internal sealed class EdgeProcess : IAsyncDisposable
{
    private readonly BackgroundProcess _process;

    private EdgeProcess(BackgroundProcess process, string directory)
    {
        _process = process;
        ConnectionLog = Path.Combine(directory, "edge-connection.log");
    }

    public string ConnectionLog { get; }

    public string Output => _process.Output;

    /// <param name="listeners">The YAML items of <c>listeners:</c> (unindented, each starting with "- ").</param>
    /// <param name="targetGroups">The YAML items of <c>target_groups:</c>.</param>
    public static async Task<EdgeProcess> StartAsync(string directory, int port, string listeners, string targetGroups)
    {
        var file = Path.Combine(directory, $"edge-{port}.yaml");
        await File.WriteAllTextAsync(file, $"""
            name: e2e-edge
            logs: {"{"} connection: edge-connection.log, access: edge-access.log {"}"}
            listeners:
            {Indent(listeners)}
            target_groups:
            {Indent(targetGroups)}
            """);
        var process = new GatehouseCli(directory).Start("edge", "--config", file);
        var edge = new EdgeProcess(process, directory);
        try
        {
            await process.WaitForOutputAsync("Edge listening on", TimeSpan.FromSeconds(60));
            await Peer.WaitForPortAsync(port, TimeSpan.FromSeconds(30), () => process.Output, server: process);
            return edge;
        }
        catch
        {
            await edge.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for a connection-log line that contains <paramref name="text"/>.</summary>
    public async Task<string> ConnectionLineAsync(string text)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var lines = File.Exists(ConnectionLog) ? await File.ReadAllLinesAsync(ConnectionLog) : [];
            if (lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line) return line;
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"no connection-log line with '{text}' within 30 s:\n{string.Join('\n', lines)}\n{Output}");
            await Task.Delay(100);
        }
    }

    private static string Indent(string yaml) => string.Join('\n', yaml.Split('\n').Where(l => l.Trim().Length > 0).Select(l => "  " + l.TrimEnd('\r')));

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
