using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
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
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // Not the user's Ctrl-C: a timeout (HttpClient's, or SocketsHttpHandler's connect timeout). System.CommandLine's
                // own handler prints nothing for a cancellation and exits 1, which left a refused command without its reason.
                Console.Error.WriteLine($"gatehouse: {TimedOut(e)}");
                return 1;
            }
        });

    /// <summary>The sentence for a timeout that ended a command: what timed out, as .NET words it, and what to try.</summary>
    public static string TimedOut(OperationCanceledException e) =>
        $"gave up waiting for an answer ({(e.InnerException as TimeoutException ?? (Exception)e).Message.TrimEnd('.')}): the proxy, or a " +
        "balancer in front of it, did not answer in time. Try again; if it keeps happening, check that the proxy is up (GET /healthz) " +
        "and not overloaded.";

    /// <summary>Reads a secret: one line from standard input with <paramref name="fromStdin"/>, else a hidden prompt (twice) on a
    /// terminal, else null (no terminal to ask on).</summary>
    public static string? ReadSecret(bool fromStdin, string what)
    {
        if (fromStdin)
            return Console.In.ReadLine()?.TrimEnd('\r', '\n') ?? throw new SetupException($"--password-stdin: standard input was empty; pipe the {what} in.");
        if (Console.IsInputRedirected || Console.IsOutputRedirected) return null;
        var first = AnsiConsole.Prompt(new TextPrompt<string>($"{what}:").Secret());
        var second = AnsiConsole.Prompt(new TextPrompt<string>($"{what} again:").Secret());
        return first == second ? first : throw new SetupException("the two entries differ; nothing was changed.");
    }

    public static IReadOnlyList<string> SplitList(string? text) =>
        text is null ? [] : [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct()];

    /// <summary>Refusal of a request that was understood but cannot be done (exit code 1).</summary>
    /// <summary>Runs <paramref name="program"/> on this terminal and returns its exit status; Ctrl-C reaches the program
    /// itself (same terminal), which ends it. <paramref name="installHint"/> says what to do when it is not installed.</summary>
    public static async Task<int> RunOnTerminalAsync(string program, IEnumerable<string> arguments, string installHint)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(start) ?? throw new SetupException($"{program} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return Fail($"cannot run {program} ({e.Message}): {installHint}");
        }
        using (process)
        {
            await process.WaitForExitAsync(CancellationToken.None);
            return process.ExitCode;
        }
    }

    /// <summary>A listener on 127.0.0.1:<paramref name="port"/> (0: a free one), started; null when it cannot listen, after
    /// saying so.</summary>
    public static System.Net.Sockets.TcpListener? ListenLocally(int port)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return listener;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Fail($"cannot listen on 127.0.0.1:{port}: {e.Message}");
            return null;
        }
    }

    public static int Fail(string message)
    {
        Console.Error.WriteLine($"gatehouse: {message}");
        return 1;
    }
}
