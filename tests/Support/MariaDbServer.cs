using System.Diagnostics;
using System.Globalization;

namespace Gatehouse.Testing;

/// <summary>
/// A real MariaDB server on a free loopback port, in a throw-away data directory (mariadb-install-db), run as the
/// <c>mysql</c> account when the tests run as root, stopped by its PID and removed on dispose. Its root user has no
/// password and is reached over the server's own socket only, for the test's set-up SQL (<see cref="AdminAsync"/>).
/// </summary>
internal sealed class MariaDbServer : IAsyncDisposable
{
    private const string ServiceUser = "mysql"; // mariadbd refuses to run as root without --user

    private readonly string _root;
    private Process? _process;

    private MariaDbServer(string root) => _root = root;

    public int Port { get; private set; }

    private string DataDirectory => Path.Combine(_root, "data");

    private string Socket => Path.Combine(_root, "mariadb.sock");

    private string LogFile => Path.Combine(_root, "server.log");

    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no server log)";

    /// <summary>Starts a server with TLS: <paramref name="certificate"/> and <paramref name="key"/> as its own, client
    /// certificates checked against <paramref name="clientCa"/> (all PEM files, copied in).</summary>
    public static async Task<MariaDbServer> StartAsync(string certificate, string key, string clientCa)
    {
        Peer.Require("mariadbd");
        // The data directory must be the service user's, and that user must reach it: the parent is ours, mode 755.
        var root = Directory.CreateTempSubdirectory("gatehouse-mariadb-").FullName;
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var server = new MariaDbServer(root);
        try
        {
            foreach (var (file, name) in new[] { (certificate, "server.pem"), (key, "server.key"), (clientCa, "client-ca.pem") })
                File.Copy(file, Path.Combine(root, name));
            Directory.CreateDirectory(server.DataDirectory);
            if (RunsAsRoot)
                (await Peer.RunAsync("chown", "-R", $"{ServiceUser}:{ServiceUser}", root)).EnsureSuccess("chown of the MariaDB test directory");
            (await Peer.RunAsync("mariadb-install-db", ["--no-defaults", $"--datadir={server.DataDirectory}", .. UserOption,
                "--auth-root-authentication-method=normal", "--skip-test-db"], timeout: TimeSpan.FromSeconds(180))).EnsureSuccess("mariadb-install-db");
            await server.StartOnFreePortAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static string[] UserOption => RunsAsRoot ? [$"--user={ServiceUser}"] : [];

    private async Task StartOnFreePortAsync()
    {
        // Peer.FreePort is free "a moment ago": if another test takes it first, the server stops and we try another.
        for (var attempt = 1; ; attempt++)
        {
            Port = Peer.FreePort();
            var start = new ProcessStartInfo(Peer.Require("mariadbd")) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in (string[])["--no-defaults", .. UserOption, $"--datadir={DataDirectory}", $"--socket={Socket}",
                $"--port={Port.ToString(CultureInfo.InvariantCulture)}", "--bind-address=127.0.0.1", $"--log-error={LogFile}",
                $"--pid-file={Path.Combine(_root, "mariadb.pid")}", "--skip-name-resolve", "--skip-log-bin",
                // Test data only, on a shared box with slow disks: no flush per commit.
                "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=32M", "--max-connections=200",
                $"--ssl-cert={Path.Combine(_root, "server.pem")}", $"--ssl-key={Path.Combine(_root, "server.key")}",
                $"--ssl-ca={Path.Combine(_root, "client-ca.pem")}"])
                start.ArgumentList.Add(argument);
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                if ((await TryAdminAsync("select 1")).ExitCode == 0) return;
                await Task.Delay(200);
            }
            await StopAsync();
            if (attempt == 3) throw new Xunit.Sdk.XunitException($"mariadbd did not start on port {Port}:\n{Log}");
        }
    }

    /// <summary>Runs SQL as the server's root over its socket; fails the test when the SQL fails.</summary>
    public async Task<string> AdminAsync(string sql)
    {
        var result = await TryAdminAsync(sql);
        result.EnsureSuccess($"mariadb -e \"{sql}\"");
        return result.Stdout;
    }

    private Task<ProcessResult> TryAdminAsync(string sql) =>
        Peer.RunAsync("mariadb", ["--no-defaults", $"--socket={Socket}", "--user=root", "--batch", "--skip-column-names", "-e", sql],
            timeout: TimeSpan.FromSeconds(60));

    private async Task StopAsync()
    {
        if (_process is not { } process) return;
        _process = null;
        try
        {
            if (!process.HasExited)
            {
                // SIGTERM by its PID: a clean shutdown; killed if it takes too long.
                await Peer.RunAsync("kill", "-TERM", process.Id.ToString(CultureInfo.InvariantCulture));
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                }
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static bool RunsAsRoot => Environment.UserName == "root";
}
