using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>
/// The command installed as a .NET tool, the way a user without the repository gets it (issue 19): `dotnet pack` of the
/// built command, `dotnet tool install` from that folder into a tool path of the test's, then the installed `gatehouse`.
/// </summary>
public sealed class ToolInstallTests
{
    [Fact]
    public async Task The_packed_tool_installs_and_its_gatehouse_starts_a_proxy()
    {
        using var dir = new TempDirectory();
        var (packages, tools) = (dir.File("packages"), dir.File("tools"));
        var project = Path.Combine(GatehouseCli.RepositoryRoot, "src", "Gatehouse.Cli", "Gatehouse.Cli.csproj");
        // --no-build: the test run built the command already; packing only gathers it.
        (await Peer.RunAsync("dotnet", ["pack", project, "-c", GatehouseCli.Configuration, "--no-build", "-o", packages, "-nologo"], timeout: TimeSpan.FromMinutes(3)))
            .EnsureSuccess("dotnet pack");
        var package = Assert.Single(Directory.GetFiles(packages, "gatehouse.*.nupkg"));
        var version = Path.GetFileNameWithoutExtension(package)["gatehouse.".Length..];
        (await Peer.RunAsync("dotnet", ["tool", "install", "gatehouse", "--tool-path", tools, "--add-source", packages, "--version", version],
            timeout: TimeSpan.FromMinutes(3))).EnsureSuccess("dotnet tool install");
        var gatehouse = Path.Combine(tools, "gatehouse");
        var environment = new Dictionary<string, string> { ["GATEHOUSE_MASTER_KEY"] = "", ["NO_COLOR"] = "1" };

        var printed = (await Peer.RunAsync(gatehouse, ["version", "--format", "json"], environment: environment)).EnsureSuccess("gatehouse version");
        using (var json = JsonDocument.Parse(printed.Stdout))
            Assert.Equal(version, json.RootElement.GetProperty("version").GetString());
        Assert.Contains("login", (await Peer.RunAsync(gatehouse, ["--help"], environment: environment)).EnsureSuccess("gatehouse --help").Stdout);

        var port = Peer.FreePort();
        await File.WriteAllTextAsync(dir.File("gatehouse.yaml"), $"cluster_name: tool\ndata_dir: data\nproxy:\n  listen: 127.0.0.1:{port}\n  public_addr: 127.0.0.1\n");
        await using var proxy = BackgroundProcess.Start(gatehouse, ["start"], environment, dir.Path);
        await proxy.WaitForOutputAsync("Proxy listening on", TimeSpan.FromSeconds(90));
        var ping = (await Peer.RunAsync("curl", "-sS", "-k", $"https://127.0.0.1:{port}/v1/ping")).EnsureSuccess("curl /v1/ping");
        Assert.Contains("\"cluster_name\":\"tool\"", ping.Stdout);
    }

    [Fact]
    public async Task The_systemd_unit_verifies_and_keeps_its_hardening()
    {
        using var dir = new TempDirectory();
        var unit = await File.ReadAllTextAsync(Path.Combine(GatehouseCli.RepositoryRoot, "deploy", "gatehouse.service"));
        foreach (var line in new[] { "DynamicUser=yes", "StateDirectory=gatehouse", "NoNewPrivileges=yes", "ProtectSystem=strict", "AmbientCapabilities=CAP_NET_BIND_SERVICE" })
            Assert.Contains(line, unit);
        // verify checks that ExecStart exists: the binary is installed on a server, not here.
        await File.WriteAllTextAsync(dir.File("gatehouse.service"), unit.Replace("ExecStart=/usr/local/bin/gatehouse", "ExecStart=/bin/true"));
        var verify = await Peer.RunAsync("systemd-analyze", "verify", dir.File("gatehouse.service"));
        Assert.True(verify.ExitCode == 0 && verify.Output.Trim().Length == 0, verify.Output);
    }
}
