using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>
/// A cluster directory (gatehouse.yaml + data dir) on a free loopback port, and the real `gatehouse start` run on it in
/// the background. Admin verbs run in the directory through <see cref="Admin"/>; <see cref="DisposeAsync"/> kills the
/// proxy (SIGKILL) and removes the directory.
/// </summary>
internal sealed class ProxyUnderTest : IAsyncDisposable
{
    public const string Password = "correct horse battery staple";
    private readonly TempDirectory _dir;
    private BackgroundProcess? _process;
    private string _lastOutput = "";

    private ProxyUnderTest(TempDirectory dir, int port, GatehouseCli admin)
    {
        _dir = dir;
        Port = port;
        Admin = admin;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The running proxy's process id (for /proc: its open file descriptors).</summary>
    public int Pid => (_process ?? throw new InvalidOperationException("the proxy is not running")).Pid;

    public string Directory => _dir.Path;

    /// <summary>The command run in the cluster directory (so it reads its gatehouse.yaml).</summary>
    public GatehouseCli Admin { get; }

    /// <summary>What the running proxy printed, or the last one did when none runs.</summary>
    public string Output => _process?.Output ?? _lastOutput;

    public string File(string name) => _dir.File(name);

    /// <summary>Waits until the running proxy has printed <paramref name="text"/>. Its output arrives through a pipe read
    /// on another thread, so a line logged just before (or after) an answer the test saw may not be in <see cref="Output"/> yet.</summary>
    public Task WaitForOutputAsync(string text) =>
        (_process ?? throw new InvalidOperationException("the proxy is not running")).WaitForOutputAsync(text, TimeSpan.FromSeconds(30));

    /// <summary>
    /// Writes the configuration without starting anything: <paramref name="extraConfig"/> is appended as top-level YAML,
    /// <paramref name="proxyConfig"/> (unindented YAML) goes into the <c>proxy:</c> section; <paramref name="publicAddr"/> is
    /// proxy.public_addr (a YAML list).
    /// </summary>
    public static async Task<ProxyUnderTest> CreateAsync(string clusterName, string extraConfig = "", IDictionary<string, string>? environment = null,
        string proxyConfig = "", string publicAddr = "[127.0.0.1]")
    {
        var dir = new TempDirectory();
        var port = Peer.FreePort();
        var proxyLines = string.Concat(proxyConfig.Split('\n').Where(l => l.Trim().Length > 0).Select(l => "\n  " + l.TrimEnd('\r')));
        await System.IO.File.WriteAllTextAsync(dir.File("gatehouse.yaml"), $"""
            cluster_name: {clusterName}
            data_dir: data
            proxy:
              listen: 127.0.0.1:{port}
              public_addr: {publicAddr}{proxyLines}
            {extraConfig}
            """);
        return new ProxyUnderTest(dir, port, new GatehouseCli(dir.Path, environment));
    }

    /// <summary>Creates the configuration and starts the proxy; returns once it says it listens.</summary>
    public static async Task<ProxyUnderTest> StartAsync(string clusterName, string extraConfig = "", IDictionary<string, string>? environment = null,
        string proxyConfig = "")
    {
        var proxy = await CreateAsync(clusterName, extraConfig, environment, proxyConfig);
        try
        {
            await proxy.StartProxyAsync();
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs `gatehouse start` (again) and waits, with a deadline, for "Proxy listening on".</summary>
    public async Task StartProxyAsync()
    {
        if (_process is not null) throw new InvalidOperationException("the proxy is running already");
        _process = Admin.Start("start");
        await _process.WaitForOutputAsync("Proxy listening on", TimeSpan.FromSeconds(90));
    }

    /// <summary>Kills the proxy with SIGKILL: no shutdown code runs, as after a crash or `kill -9`.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        _lastOutput = _process.Output;
        await _process.DisposeAsync();
        _process = null;
    }

    /// <summary>The role file every access test uses: the user's own logins trait plus ubuntu, sessions of at most 2h.</summary>
    public Task ApplyDevRoleAsync() => ApplyRoleAsync("dev", """
        allow:
          logins: ['{{internal.logins}}', ubuntu]
        options: { max_session_ttl: 2h }
        """);

    /// <summary>
    /// Writes role <paramref name="name"/> to role-NAME.yaml in the cluster directory — <c>kind: role</c>, <c>name:</c>,
    /// then <paramref name="yamlBody"/> (unindented YAML: <c>allow:</c>, <c>options:</c>) — and runs `admin roles apply` on it.
    /// </summary>
    public async Task ApplyRoleAsync(string name, string yamlBody)
    {
        var file = File($"role-{name}.yaml");
        await System.IO.File.WriteAllTextAsync(file, $"""
            kind: role
            name: {name}
            {yamlBody}
            """);
        (await Admin.RunAsync("admin", "roles", "apply", file)).EnsureSuccess($"roles apply {name}");
    }

    /// <summary>
    /// `admin certs issue --user USER …` into a fresh folder of the cluster directory (a new one each call, so a user can be
    /// issued twice). The first line the command prints is the serial, what `admin certs revoke` takes.
    /// </summary>
    public async Task<IssuedCertificate> IssueAsync(string user, params string[] options)
    {
        var dir = File($"certs-{user}-{Guid.NewGuid():N}");
        var issued = (await Admin.RunAsync(["admin", "certs", "issue", "--user", user, .. options, "--out", dir])).EnsureSuccess($"certs issue {user}");
        return new IssuedCertificate(Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"), issued.Stdout.Split('\n')[0].Trim());
    }

    /// <summary>Adds a user with <see cref="Password"/> (given on stdin); returns what `users add` printed.</summary>
    public async Task<string> AddUserAsync(string name, params string[] options) =>
        (await Admin.RunWithInputAsync(Password + "\n", ["admin", "users", "add", name, .. options, "--password-stdin"])).EnsureSuccess($"users add {name}").Stdout;

    /// <summary>Exports the host CA (what signs the proxy's TLS certificate) to a file; returns its path.</summary>
    public async Task<string> ExportHostCaAsync(string fileName = "host-ca.pem")
    {
        (await Admin.RunAsync("admin", "ca", "export", "--kind", "host", "--out", File(fileName))).EnsureSuccess("ca export --kind host");
        return File(fileName);
    }

    /// <summary>Exports the user CA (what signs users' certificates: what a verifying balancer trusts) to a file; returns its path.</summary>
    public async Task<string> ExportUserCaAsync(string fileName = "user-ca.pem")
    {
        (await Admin.RunAsync("admin", "ca", "export", "--out", File(fileName))).EnsureSuccess("ca export (user)");
        return File(fileName);
    }

    /// <summary>`admin audit … --format json`, parsed.</summary>
    public async Task<IReadOnlyList<JsonElement>> AuditAsync(params string[] filters)
    {
        var result = (await Admin.RunAsync(["admin", "audit", .. filters, "--format", "json"])).EnsureSuccess("admin audit");
        using var json = JsonDocument.Parse(result.Stdout);
        return [.. json.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _dir.Dispose();
    }
}

/// <summary>A person's machine: its own working directory and $GATEHOUSE_HOME, where `gatehouse login` keeps profiles.</summary>
internal sealed class ClientMachine : IDisposable
{
    private readonly TempDirectory _dir = new();

    /// <param name="environment">More environment for every command run (GATEHOUSE_TUNNEL, SSL_CERT_FILE, …).</param>
    public ClientMachine(IDictionary<string, string>? environment = null)
    {
        var env = new Dictionary<string, string> { ["GATEHOUSE_HOME"] = Home };
        if (environment is not null)
            foreach (var (k, v) in environment) env[k] = v;
        Environment = env;
        Cli = new GatehouseCli(_dir.Path, env);
    }

    /// <summary>What every command run on this machine gets in its environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public GatehouseCli Cli { get; }

    public string Home => _dir.File("gatehouse-home");

    public string File(string name) => _dir.File(name);

    /// <summary>The profile folder of a proxy address: "127.0.0.1:3080" → $GATEHOUSE_HOME/127.0.0.1_3080.</summary>
    public string ProfileOf(string address) => Path.Combine(Home, address.Replace(':', '_'));

    /// <summary>`gatehouse login` with the password on stdin.</summary>
    public Task<ProcessResult> LoginAsync(string address, string user, string password, params string[] options) =>
        Cli.RunWithInputAsync(password + "\n", ["login", "--proxy", address, "--user", user, "--password-stdin", .. options]);

    public void Dispose() => _dir.Dispose();
}
