using System.Globalization;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Hosting;
using Gatehouse.Testing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Tests;

/// <summary>What curl got: its exit code, the HTTP status (0 when there was none), the body and what it printed on stderr.</summary>
internal sealed record CurlResult(int ExitCode, int Status, string Body, string Stderr)
{
    public override string ToString() => $"curl exit {ExitCode}, status {Status}\n{Body}\n{Stderr}";
}

/// <summary>
/// The edge running in this process on free loopback ports, with its server certificate from a CA of the test's, its
/// connection and access logs in files; real curl as the client (client certificates, HTTP/1.1 and h2).
/// </summary>
internal sealed class EdgeUnderTest : IAsyncDisposable
{
    private readonly EdgeHost _host;

    private EdgeUnderTest(EdgeHost host, string dir, string serverCa)
    {
        _host = host;
        ConnectionLog = Path.Combine(dir, "connection.log");
        AccessLog = Path.Combine(dir, "access.log");
        ServerCa = serverCa;
    }

    public string ConnectionLog { get; }

    public string AccessLog { get; }

    /// <summary>The CA of the listeners' certificate (what curl trusts).</summary>
    public string ServerCa { get; }

    /// <param name="build">Makes the options from the listener certificate and key files and the two log files.</param>
    public static async Task<EdgeUnderTest> StartAsync(string dir, Func<(string Certificate, string Key), EdgeOptions> build)
    {
        var serverCa = TestCa.Root(dir, "CN=Edge Test Server CA");
        var options = build(serverCa.Server()) with { };
        options = options with { ConnectionLog = Path.Combine(dir, "connection.log"), AccessLog = Path.Combine(dir, "access.log") };
        var host = EdgeHost.Create(options, logging => logging.SetMinimumLevel(LogLevel.Warning), TimeProvider.System);
        await host.StartAsync(CancellationToken.None);
        return new EdgeUnderTest(host, dir, serverCa.File);
    }

    /// <summary>One listener on a free port forwarding everything to <paramref name="targets"/> (one HTTP target group).</summary>
    public static ListenerOptions Listener(int port, (string Certificate, string Key) server, MutualAuthenticationOptions mtls, MtlsHeaderNames? names = null,
        IReadOnlyList<RuleOptions>? rules = null) =>
        new(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), server.Certificate, server.Key, mtls, rules ?? [new RuleOptions(null, "/*", "echo")], null,
            names ?? MtlsHeaderNames.Default);

    public static TargetGroupOptions Group(string name, params EchoTarget[] targets) =>
        new(name, TargetProtocol.Http, [.. targets.Select(t => new System.Net.DnsEndPoint("127.0.0.1", t.Port))], null, null);

    /// <summary>curl to https://127.0.0.1:PORT/PATH trusting the edge's CA, with <paramref name="options"/> (--cert, -H, …).</summary>
    public Task<CurlResult> CurlAsync(int port, string path, params string[] options) => CurlAsync(port, path, weak: false, options);

    /// <summary>As <see cref="CurlAsync(int, string, string[])"/>; with <paramref name="weak"/>, curl's OpenSSL runs at security level 0
    /// (OPENSSL_CONF), else it refuses to even load an RSA-1024 or SHA-1 client certificate ("ee key too small").</summary>
    public async Task<CurlResult> CurlAsync(int port, string path, bool weak, params string[] options)
    {
        Dictionary<string, string>? environment = null;
        if (weak)
        {
            var conf = Path.Combine(Path.GetDirectoryName(ConnectionLog)!, "openssl-seclevel0.cnf");
            await File.WriteAllTextAsync(conf, "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nCipherString = DEFAULT@SECLEVEL=0\n");
            environment = new() { ["OPENSSL_CONF"] = conf };
        }
        var result = await Peer.RunAsync("curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", "--cacert", ServerCa, .. options,
            $"https://127.0.0.1:{port}{path}"], timeout: TimeSpan.FromSeconds(40), environment: environment);
        var cut = result.Stdout.LastIndexOf('\n');
        var status = cut < 0 ? 0 : int.Parse(result.Stdout[(cut + 1)..], CultureInfo.InvariantCulture);
        return new CurlResult(result.ExitCode, status, cut < 0 ? result.Stdout : result.Stdout[..cut], result.Stderr);
    }

    /// <summary>curl options presenting a client certificate (and its chain file when given).</summary>
    public static string[] Cert(ClientCertificate certificate, string? chainFile = null) => ["--cert", chainFile ?? certificate.CertificateFile, "--key", certificate.KeyFile];

    /// <summary>The first line of a log that satisfies <paramref name="match"/>, waiting for the writer (with a deadline).</summary>
    public static async Task<string> WaitForLineAsync(string file, Func<string, bool> match, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (File.Exists(file))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                var lines = (await new StreamReader(stream).ReadToEndAsync()).Split('\n');
                if (lines.FirstOrDefault(match) is { } line) return line;
                if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"no {what} in {file} within 30 s:\n{string.Join('\n', lines)}");
            }
            else if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"{file} was not written within 30 s ({what})");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();
}
