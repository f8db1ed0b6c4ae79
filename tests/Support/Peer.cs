using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing;

internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    public ProcessResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"{what} exited with {ExitCode}:\n{Stdout}\n{Stderr}");
        return this;
    }
}

/// <summary>Runs the real programs the tests talk to (openssl, ssh-keygen, sshd, curl, …).</summary>
internal static class Peer
{
    private static readonly Dictionary<string, string> DebianPackageOf = new()
    {
        ["openssl"] = "openssl",
        ["ssh-keygen"] = "openssh-client",
        ["ssh"] = "openssh-client",
        ["sshd"] = "openssh-server",
        ["curl"] = "curl",
        ["nginx"] = "nginx",
        ["haproxy"] = "haproxy",
        ["psql"] = "postgresql-client",
        ["mariadb"] = "mariadb-client",
        ["mariadbd"] = "mariadb-server",
        ["mariadb-install-db"] = "mariadb-server",
    };

    /// <summary>The full path of a program, or a test failure that says which package to install.</summary>
    public static string Require(string program)
    {
        string[] dirs = [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'), "/usr/sbin", "/sbin", "/usr/local/sbin"];
        foreach (var dir in dirs)
        {
            var candidate = Path.Combine(dir, program);
            if (dir.Length > 0 && File.Exists(candidate))
                return candidate;
        }
        var package = DebianPackageOf.GetValueOrDefault(program, program);
        throw new Xunit.Sdk.XunitException(
            $"'{program}' is not installed; this test needs it as a real peer. Install it with: apt-get install -y {package} (./test.sh does this).");
    }

    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> args, string? stdin = null,
        TimeSpan? timeout = null, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(program.Contains('/') ? program : Require(program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{program} {string.Join(' ', args)} did not finish within {timeout ?? TimeSpan.FromSeconds(60)}");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    public static Task<ProcessResult> RunAsync(string program, params string[] args) => RunAsync(program, (IEnumerable<string>)args);

    /// <summary>A TCP port that was free a moment ago on the given loopback address.</summary>
    public static int FreePort(string address = "127.0.0.1")
    {
        using var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Polls until something accepts TCP connections on the port, or fails after the deadline — or at once when
    /// <paramref name="server"/> (the process meant to listen) has exited.
    /// </summary>
    public static async Task WaitForPortAsync(int port, TimeSpan deadline, Func<string>? diagnostics = null, string address = "127.0.0.1",
        BackgroundProcess? server = null)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Parse(address), port);
                return;
            }
            catch (SocketException) when (server is { HasExited: true })
            {
                throw new Xunit.Sdk.XunitException($"the server meant to listen on {address}:{port} exited. {diagnostics?.Invoke()}");
            }
            catch (SocketException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                throw new Xunit.Sdk.XunitException($"nothing listened on {address}:{port} within {deadline}. {diagnostics?.Invoke()}");
            }
        }
    }
}

/// <summary>A long-running peer (sshd, nginx, the proxy) stopped by PID when the test ends.</summary>
internal sealed class BackgroundProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private BackgroundProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output { get { lock (_output) return _output.ToString(); } }

    public static BackgroundProcess Start(string program, IEnumerable<string> args, IDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program.Contains('/') ? program : Peer.Require(program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi };
        var self = new BackgroundProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (self._output) self._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (self._output) self._output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return self;
    }

    /// <summary>Waits (with a deadline) until the output contains the text.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
                throw new Xunit.Sdk.XunitException($"process exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            if (DateTime.UtcNow > until)
                throw new Xunit.Sdk.XunitException($"'{text}' did not appear within {deadline}:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits (with a deadline) for the process to exit by itself.</summary>
    public async Task WaitForExitAsync(TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"the process did not exit within {deadline}:\n{Output}");
        }
    }

    /// <summary>Sends SIGTERM and waits for the process to exit; true when it did in time. (Not SIGINT: a shell starts
    /// background jobs with SIGINT ignored, and test runs are often such jobs — .NET then leaves SIGINT ignored.)</summary>
    public async Task<bool> TerminateAsync(TimeSpan deadline)
    {
        if (_process.HasExited) return true;
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
               { UseShellExecute = false })!)
            await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (InvalidOperationException) { }
        catch (OperationCanceledException) { }
        _process.Dispose();
    }
}
