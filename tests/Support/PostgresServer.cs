using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace Gatehouse.Testing;

/// <summary>
/// A real PostgreSQL server on a free loopback port, in a throw-away data directory, stopped and removed on dispose.
/// TCP logins use scram-sha-256 with a generated superuser password, not trust: the store's handling of passwords
/// (never echoed, a wrong one refused at once) is only tested against a server that asks for one.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    public const string Superuser = "postgres";
    private const string ServiceUser = "postgres"; // initdb and postgres refuse to run as root

    private readonly string _root;
    private readonly string _bin;
    private bool _running;

    private PostgresServer(string root, string bin, string password)
    {
        _root = root;
        _bin = bin;
        Password = password;
    }

    public int Port { get; private set; }

    public string Password { get; }

    private string DataDirectory => Path.Combine(_root, "data");

    private string SocketDirectory => Path.Combine(_root, "sock");

    private string LogFile => Path.Combine(_root, "server.log");

    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no server log)";

    /// <summary>The directory of initdb and pg_ctl (newest installed major version), or a failure that says what to install.</summary>
    public static string FindBinaries()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1,
                    Bin: Path.Combine(d, "bin")))
                .Where(c => File.Exists(Path.Combine(c.Bin, "initdb")) && File.Exists(Path.Combine(c.Bin, "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .ToList()
            : [];
        return candidates.Count > 0
            ? candidates[0].Bin
            : throw new Xunit.Sdk.XunitException(
                "PostgreSQL server binaries are missing; install them with: apt-get install -y postgresql (./test.sh does this).");
    }

    /// <param name="configure">Runs after initdb, before the server starts, with the data directory: to write TLS
    /// files, postgresql.conf settings or pg_hba.conf. Files it writes there are handed to the service user.</param>
    public static async Task<PostgresServer> StartAsync(Func<string, Task>? configure = null)
    {
        var bin = FindBinaries();
        // The data directory must be the service user's with mode 700, and that user must be able to reach it: the
        // parent is ours (root) with mode 755, created under /tmp (1777).
        var root = Directory.CreateTempSubdirectory("gatehouse-pg-").FullName;
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var server = new PostgresServer(root, bin, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
        try
        {
            await server.InitAsync();
            if (configure is not null)
            {
                await configure(server.DataDirectory);
                if (RunsAsRoot)
                    (await Peer.RunAsync("chown", "-R", $"{ServiceUser}:{ServiceUser}", server.DataDirectory)).EnsureSuccess("chown of the configured data directory");
            }
            await server.StartOnFreePortAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task InitAsync()
    {
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(SocketDirectory);
        var passwordFile = Path.Combine(_root, "pwfile");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        if (RunsAsRoot)
            (await Peer.RunAsync("chown", "-R", $"{ServiceUser}:{ServiceUser}", _root)).EnsureSuccess("chown of the PostgreSQL test directory");
        File.SetUnixFileMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        (await RunAsServiceUserAsync(Path.Combine(_bin, "initdb"),
            "-D", DataDirectory, "-U", Superuser, "--pwfile", passwordFile, "-E", "UTF8", "--locale", "C.UTF-8",
            "--auth-local", "trust", "--auth-host", "scram-sha-256", "--no-sync")).EnsureSuccess("initdb");
        File.Delete(passwordFile);
    }

    private async Task StartOnFreePortAsync()
    {
        // Peer.FreePort is free "a moment ago": if another test grabs it first, pg_ctl fails and we try another.
        for (var attempt = 1; ; attempt++)
        {
            Port = Peer.FreePort();
            var result = await PgCtlStartAsync();
            if (result.ExitCode == 0)
            {
                _running = true;
                await Peer.WaitForPortAsync(Port, TimeSpan.FromSeconds(30), () => Log);
                return;
            }
            if (attempt == 3)
                throw new Xunit.Sdk.XunitException($"pg_ctl start failed ({result.ExitCode}):\n{result.Output}\n{Log}");
        }
    }

    private Task<ProcessResult> PgCtlStartAsync()
    {
        // fsync off: these servers hold test data only, and the shared box has slow disks. Commit semantics are unchanged.
        var options = $"-p {Port} -k {SocketDirectory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200";
        return RunAsServiceUserAsync(Path.Combine(_bin, "pg_ctl"), "-D", DataDirectory, "-l", LogFile, "-o", options, "-w", "-t", "60", "start");
    }

    /// <summary>Stops the server in fast mode (every session is ended, as when a database fails over or restarts).</summary>
    public async Task StopAsync()
    {
        (await RunAsServiceUserAsync(Path.Combine(_bin, "pg_ctl"), "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop")).EnsureSuccess("pg_ctl stop");
        _running = false;
    }

    /// <summary>Starts a stopped server again on its port (clients configured with it find it where it was).</summary>
    public async Task StartAgainAsync()
    {
        (await PgCtlStartAsync()).EnsureSuccess("pg_ctl start (again)");
        _running = true;
        await Peer.WaitForPortAsync(Port, TimeSpan.FromSeconds(30), () => Log);
    }

    /// <summary>Connection string (password included) for a database of this server.</summary>
    public string ConnectionString(string database, string? password = null) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Database = database,
            Username = Superuser,
            Password = password ?? Password,
        }.ConnectionString;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>A database name no other test of this server uses.</summary>
    public static string NewDatabaseName() => "gh_" + Guid.NewGuid().ToString("N")[..16];

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_running)
                await RunAsServiceUserAsync(Path.Combine(_bin, "pg_ctl"), "-D", DataDirectory, "-m", "immediate", "-w", "stop");
            _running = false;
        }
        finally
        {
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static bool RunsAsRoot => Environment.UserName == "root";

    private static Task<ProcessResult> RunAsServiceUserAsync(string program, params string[] args) =>
        RunsAsRoot
            ? Peer.RunAsync("runuser", ["-u", ServiceUser, "--", program, .. args], timeout: TimeSpan.FromSeconds(120))
            : Peer.RunAsync(program, args, timeout: TimeSpan.FromSeconds(120));
}

/// <summary>One PostgreSQL server per test class; each test makes its own database in it.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    internal PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}
