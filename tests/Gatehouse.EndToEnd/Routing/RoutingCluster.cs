using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Routing;

[CollectionDefinition(Name)]
public sealed class RoutingCollection : ICollectionFixture<RoutingCluster>
{
    public const string Name = "Routing";
}

/// <summary>
/// One Gatehouse proxy serving the TCP app <c>echo</c> (an <see cref="EchoServer"/> of the test's, labels env: dev)
/// on its one TLS port, and the balancers the routing tests put in front of it, each on its own port of one nginx and
/// one HAProxy:
/// <list type="bullet">
/// <item>nginx as an HTTPS reverse proxy that passes WebSocket upgrades (<see cref="NginxL7Port"/>);</item>
/// <item>nginx <c>stream</c>, plain TCP passthrough (<see cref="NginxStreamPort"/>);</item>
/// <item>nginx that does not pass upgrades (<see cref="NginxNoUpgradePort"/>);</item>
/// <item>nginx with a 3 s <c>proxy_read_timeout</c> (<see cref="NginxIdlePort"/>), against the proxy's 1 s ping interval;</item>
/// <item>nginx that adds a made-up X-Forwarded-For entry (<see cref="NginxForgingPort"/>) from 127.0.0.1, which is not
/// a trusted proxy;</item>
/// <item>HAProxy in <c>mode http</c> (<see cref="HaproxyPort"/>);</item>
/// <item>nginx in "verify mode" (an ALB's mutual TLS, issue 7): <c>ssl_verify_client on</c> trusting the Gatehouse user CA and
/// a company CA (<see cref="NginxVerifyPort"/>), or the company CA only (<see cref="NginxCompanyOnlyPort"/>), proxying
/// over HTTPS with upgrades;</item>
/// <item>two trusted hops, nginx (<see cref="NginxFirstHopPort"/>, connecting from 127.0.0.2) → HAProxy (connecting from
/// 127.0.0.3) → Gatehouse.</item>
/// </list>
/// The balancers show clients a certificate of their own CA (<see cref="BalancerCa"/>), which the client machines trust
/// as their system store (SSL_CERT_FILE), as a public certificate would be; the inner TLS trusts only the host CA.
/// </summary>
public sealed class RoutingCluster : IAsyncLifetime
{
    /// <summary>Where the trusted hops connect from: loopback addresses other than 127.0.0.1, so that the client's own
    /// address (127.0.0.1) is not trusted and a forged X-Forwarded-For from it must be ignored.</summary>
    public const string FirstHopSource = "127.0.0.2", SecondHopSource = "127.0.0.3";

    /// <summary>The entry the forging nginx and the first hop put in X-Forwarded-For as if the client had sent it.</summary>
    public const string ForgedClient = "198.51.100.7";

    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal EchoServer Echo { get; private set; } = null!;
    internal NginxPeer Nginx { get; private set; } = null!;
    internal HaproxyPeer Haproxy { get; private set; } = null!;
    internal OpensslCa BalancerCaAuthority { get; private set; } = null!;

    public int NginxL7Port { get; } = Peer.FreePort();
    public int NginxStreamPort { get; } = Peer.FreePort();
    public int NginxNoUpgradePort { get; } = Peer.FreePort();
    public int NginxIdlePort { get; } = Peer.FreePort();
    public int NginxForgingPort { get; } = Peer.FreePort();
    public int NginxFirstHopPort { get; } = Peer.FreePort();
    public int HaproxyPort { get; } = Peer.FreePort();
    public int HaproxySecondHopPort { get; } = Peer.FreePort();
    public int NginxVerifyPort { get; } = Peer.FreePort();

    /// <summary>nginx's stub_status over plain HTTP: its open client connections, as a balancer's own count.</summary>
    public int NginxStatusPort { get; } = Peer.FreePort();
    public int NginxCompanyOnlyPort { get; } = Peer.FreePort();

    /// <summary>A company CA (openssl) that the verify-mode nginx trusts besides the Gatehouse user CA, and a laptop
    /// certificate from it: the <c>--outer-cert/--outer-key</c> pair.</summary>
    internal OpensslCa CompanyCa { get; private set; } = null!;
    public (string Certificate, string Key) CompanyClient { get; private set; }

    public string HostCa { get; private set; } = "";

    /// <summary>The CA of the balancers' own server certificates.</summary>
    public string BalancerCa => BalancerCaAuthority.Certificate;

    public async Task InitializeAsync()
    {
        Echo = EchoServer.Start();
        Proxy = await ProxyUnderTest.CreateAsync("routing", $"""
            resources:
              tcp_apps:
                - name: echo
                  addr: 127.0.0.1:{Echo.Port}
                  labels: {"{"} env: dev {"}"}
            """, proxyConfig: $"""
            ping_interval: 1s
            trusted_proxies: [{FirstHopSource}/32, {SecondHopSource}/32]
            """);
        await Proxy.StartProxyAsync();
        await Proxy.ApplyRoleAsync("dev", """
            allow:
              app_labels: { env: dev }
            """);
        await Proxy.ApplyRoleAsync("ops", """
            allow:
              app_labels: { env: prod }
            """);
        HostCa = await Proxy.ExportHostCaAsync();

        BalancerCaAuthority = await OpensslCa.RootAsync(Proxy.Directory, "balancer-ca", "/O=Balancers/CN=Routing Balancer CA");
        var (serverCert, serverKey) = await BalancerCaAuthority.ServerAsync("balancer-server");
        CompanyCa = await OpensslCa.RootAsync(Proxy.Directory, "company-ca", "/O=Example Corp/CN=Example Corp Devices CA");
        CompanyClient = await CompanyCa.ClientAsync("company-laptop", "/O=Example Corp/CN=alice-laptop");
        var userCa = await Proxy.ExportUserCaAsync();
        var clientCas = Proxy.File("verify-client-cas.pem");
        await File.WriteAllTextAsync(clientCas, await File.ReadAllTextAsync(userCa) + await File.ReadAllTextAsync(CompanyCa.Certificate));
        Nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxServers(serverCert, serverKey) + NginxVerifyServers(serverCert, serverKey, clientCas)),
            _ => Task.FromResult(NginxMain()),
            NginxL7Port, NginxStreamPort, NginxNoUpgradePort, NginxIdlePort, NginxForgingPort, NginxFirstHopPort, NginxVerifyPort, NginxCompanyOnlyPort, NginxStatusPort);
        var combined = Proxy.File("balancer-server-combined.pem");
        await File.WriteAllTextAsync(combined, await File.ReadAllTextAsync(serverCert) + await File.ReadAllTextAsync(serverKey));
        Haproxy = await HaproxyPeer.StartAsync(_ => Task.FromResult(HaproxySections(combined)), HaproxyPort, HaproxySecondHopPort);
    }

    /// <summary>nginx.conf's top level: the stream module (packaged as a dynamic module on Debian) and the L4 passthrough.</summary>
    private string NginxMain() => $$"""
        load_module /usr/lib/nginx/modules/ngx_stream_module.so;

        # Layer-4 passthrough: the client's TLS (and its ALPN) reaches Gatehouse untouched.
        stream {
            server {
                listen 127.0.0.1:{{NginxStreamPort}};
                proxy_pass 127.0.0.1:{{Proxy.Port}};
            }
        }
        """;

    /// <summary>The http { } body: every L7 server block. These are the configurations docs/behind-a-load-balancer.md shows.</summary>
    private string NginxServers(string serverCert, string serverKey) => string.Concat(
        $$"""
        server {
            listen 127.0.0.1:{{NginxStatusPort}};
            location = /status { stub_status; }
        }

        """,
        // HTTPS reverse proxy that passes WebSocket (and raw) upgrades to Gatehouse.
        NginxBlocks.Server(NginxL7Port, serverCert, serverKey, location: $"""
            {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, HostCa)}
            {NginxBlocks.PassUpgrades}
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;                  # a quiet tunnel is not a dead one
            """),

        // The usual configuration that does NOT pass upgrades: HTTP/1.0 upstream, no Upgrade/Connection headers.
        NginxBlocks.Server(NginxNoUpgradePort, serverCert, serverKey, location: NginxBlocks.ProxyToGatehouseTls(Proxy.Port, HostCa)),

        // Upgrades pass, but an idle upstream is cut after 3 s: only Gatehouse's pings keep a tunnel open.
        NginxBlocks.Server(NginxIdlePort, serverCert, serverKey, location: $"""
            {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, HostCa)}
            {NginxBlocks.PassUpgrades}
            proxy_read_timeout 3s;
            """),

        // Connects from 127.0.0.1, which is not in trusted_proxies, and claims a client address it cannot vouch for.
        NginxBlocks.Server(NginxForgingPort, serverCert, serverKey, location: $"""
            {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, HostCa)}
            {NginxBlocks.PassUpgrades}
            proxy_set_header X-Forwarded-For "{ForgedClient}, $proxy_add_x_forwarded_for";
            """),

        // First of two trusted hops: TLS from the client, plain HTTP to HAProxy, from FirstHopSource. The header it sends
        // reads "ForgedClient, 127.0.0.1": an entry as if the client had sent one, then the address it saw.
        NginxBlocks.Server(NginxFirstHopPort, serverCert, serverKey, location: $"""
            proxy_pass http://127.0.0.1:{HaproxySecondHopPort};
            proxy_bind {FirstHopSource};
            {NginxBlocks.PassUpgrades}
            proxy_set_header X-Forwarded-For "{ForgedClient}, $proxy_add_x_forwarded_for";
            proxy_read_timeout 1h;
            """));

    /// <summary>Verify-mode stand-ins: the client must present a certificate from one of <paramref name="clientCas"/> (or the
    /// company CA only) in the TLS handshake; without one nginx answers 400 "No required SSL certificate was sent".</summary>
    private string NginxVerifyServers(string serverCert, string serverKey, string clientCas) => string.Concat(
        NginxBlocks.Server(NginxVerifyPort, serverCert, serverKey, server: $"""
            ssl_verify_client      on;
            ssl_client_certificate {clientCas};   # the Gatehouse user CA and the company CA
            """, location: VerifiedToGatehouse()),
        NginxBlocks.Server(NginxCompanyOnlyPort, serverCert, serverKey, server: $"""
            ssl_verify_client      on;
            ssl_client_certificate {CompanyCa.Certificate};
            """, location: VerifiedToGatehouse()));

    /// <summary>What both verify-mode stand-ins do with a request that passed: on to Gatehouse over HTTPS, upgrades too.</summary>
    private string VerifiedToGatehouse() => $"""
        {NginxBlocks.ProxyToGatehouseTls(Proxy.Port, HostCa)}
        {NginxBlocks.PassUpgrades}
        proxy_read_timeout 1h;
        """;

    /// <summary>HAProxy after the global section: an HTTPS front in mode http (upgrades pass by themselves), and the
    /// second hop of the chain.</summary>
    private string HaproxySections(string combined) => $$"""
        defaults
            mode http
            log global
            option httplog
            timeout connect 5s
            timeout client 30s
            timeout server 30s
            timeout tunnel 1h

        frontend https
            bind 127.0.0.1:{{HaproxyPort}} ssl crt {{combined}} alpn http/1.1
            option forwardfor
            default_backend gatehouse

        backend gatehouse
            server gatehouse 127.0.0.1:{{Proxy.Port}} ssl verify required ca-file {{HostCa}} verifyhost gatehouse.internal sni str(gatehouse.internal)

        # Second hop: from the first (nginx, plain HTTP) on to Gatehouse, connecting from {{SecondHopSource}}.
        frontend second_hop
            bind 127.0.0.1:{{HaproxySecondHopPort}}
            option forwardfor
            default_backend gatehouse_from_second_hop

        backend gatehouse_from_second_hop
            server gatehouse 127.0.0.1:{{Proxy.Port}} ssl verify required ca-file {{HostCa}} verifyhost gatehouse.internal sni str(gatehouse.internal) source {{SecondHopSource}}
        """;

    /// <summary>
    /// A client machine logged in to <paramref name="address"/> (Gatehouse itself or a balancer) with a fresh identity of
    /// <paramref name="user"/> (role dev). Its system trust store is the balancers' CA; --ca is the cluster's host CA,
    /// which the inner TLS trusts and, for a direct address, the outer too.
    /// </summary>
    internal async Task<ClientMachine> LoggedInClientAsync(string address, string user, IDictionary<string, string>? environment = null,
        params string[] loginOptions)
    {
        var env = new Dictionary<string, string> { ["SSL_CERT_FILE"] = BalancerCa };
        if (environment is not null)
            foreach (var (k, v) in environment) env[k] = v;
        var client = new ClientMachine(env);
        try
        {
            var identity = await Proxy.IssueAsync(user, "--roles", "dev");
            var login = await client.Cli.RunAsync(["login", "--proxy", address, "--identity", identity.Directory, "--ca", HostCa, .. loginOptions]);
            Assert.True(login.ExitCode == 0, $"login --identity via {address}:\n{login.Output}");
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>`gatehouse diag tunnel --format json` from the client machine.</summary>
    internal static async Task<JsonElement> DiagAsync(ClientMachine client, string address)
    {
        var diag = await client.Cli.RunAsync("diag", "tunnel", "--proxy", address, "--format", "json");
        Assert.True(diag.ExitCode == 0, diag.Output);
        using var json = JsonDocument.Parse(diag.Stdout);
        return json.RootElement.Clone();
    }

    public async Task DisposeAsync()
    {
        if (Haproxy is not null) await Haproxy.DisposeAsync();
        if (Nginx is not null) await Nginx.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        Echo?.Dispose();
    }
}

/// <summary>
/// `gatehouse proxy app NAME -v` running in the background on a port it picked itself (--port 0), and the local
/// connections a test makes to it.
/// </summary>
internal sealed partial class LocalForward : IAsyncDisposable
{
    private readonly BackgroundProcess _process;

    private LocalForward(BackgroundProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Output => _process.Output;

    public bool HasExited => _process.HasExited;

    public static async Task<LocalForward> StartAsync(ClientMachine client, string app, string proxy)
    {
        var process = client.Cli.Start("proxy", "app", app, "--port", "0", "--proxy", proxy, "-v");
        try
        {
            await process.WaitForOutputAsync("Forwarding 127.0.0.1:", TimeSpan.FromSeconds(60));
            var port = int.Parse(Forwarding().Match(process.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            return new LocalForward(process, port);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public async Task<TcpClient> ConnectAsync()
    {
        var socket = new TcpClient { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, Port);
        return socket;
    }

    /// <summary>Waits (with a deadline) for <paramref name="text"/> in the command's output.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan deadline) => _process.WaitForOutputAsync(text, deadline);

    /// <summary>Waits (with a deadline) for the -v line "connection N closed: …"; returns it.</summary>
    public async Task<string> WaitForClosedAsync(int connection, TimeSpan deadline)
    {
        var marker = $"connection {connection} closed";
        await _process.WaitForOutputAsync(marker, deadline);
        return Output.Split('\n').First(l => l.Contains(marker, StringComparison.Ordinal)).Trim();
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"Forwarding 127\.0\.0\.1:(\d+) ")]
    private static partial Regex Forwarding();
}
