using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>Runs the real `gatehouse` command (the built gatehouse.dll) in a working directory of the test's.</summary>
internal sealed class GatehouseCli(string workingDirectory, IDictionary<string, string>? environment = null)
{
    public static string Dll { get; } = FindDll();

    public string WorkingDirectory => workingDirectory;

    public Task<ProcessResult> RunAsync(params string[] args) =>
        Peer.RunAsync("dotnet", [Dll, .. args], workingDirectory: workingDirectory, environment: Environment(), timeout: TimeSpan.FromSeconds(60));

    /// <summary>Runs with <paramref name="stdin"/> piped in (passwords: `--password-stdin`).</summary>
    public Task<ProcessResult> RunWithInputAsync(string stdin, params string[] args) =>
        Peer.RunAsync("dotnet", [Dll, .. args], stdin: stdin, workingDirectory: workingDirectory, environment: Environment(), timeout: TimeSpan.FromSeconds(60));

    public BackgroundProcess Start(params string[] args) =>
        BackgroundProcess.Start(Peer.Require("dotnet"), [Dll, .. args], Environment(), workingDirectory);

    private Dictionary<string, string> Environment()
    {
        // The machine's own GATEHOUSE_MASTER_KEY must not leak into a test.
        var env = new Dictionary<string, string> { ["GATEHOUSE_MASTER_KEY"] = "", ["NO_COLOR"] = "1" };
        if (environment is not null)
            foreach (var (k, v) in environment) env[k] = v;
        return env;
    }

    /// <summary>The repository's root folder (where Gatehouse.slnx is), found from the test's output folder.</summary>
    public static string RepositoryRoot => FindRoot();

    /// <summary>The build configuration the tests were built in (Release or Debug); the command is built the same way.</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;

    private static string FindRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Gatehouse.slnx"))) root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException($"cannot find the repository above {AppContext.BaseDirectory}");
    }

    private static string FindDll()
    {
        // The test output sits in tests/Gatehouse.EndToEnd/bin/<Configuration>/net10.0/; the command in the same place under src/.
        var dll = Path.Combine(RepositoryRoot, "src", "Gatehouse.Cli", "bin", Configuration, "net10.0", "gatehouse.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing; build the solution first");
    }
}
