using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.EndToEnd.Routing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Faults;

/// <summary>
/// Deployment (e): two proxies on one PostgreSQL behind nginx round robin (layer 4: each client's TLS reaches a proxy).
/// One is killed; new connections through the balancer go on through the other (the client retries a connection that
/// fails before the proxy answered, once). Revocations and the per-user login
/// throttle are the cluster's, not a proxy's (the one-time-code replay across proxies is in PostgresClusterTests).
/// </summary>
public sealed class HaFailoverTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private static readonly TimeSpan RevocationRequirement = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task With_one_proxy_killed_new_connections_through_the_balancer_succeed_and_a_revocation_on_a_is_refused_by_b()
    {
        using var echo = EchoServer.Start();
        var (storage, environment) = await NewSharedDatabaseAsync();
        await using var a = await ProxyUnderTest.StartAsync("ha-e2e", storage + "\n" + ProxyFaultTests.TcpApp(echo.Port), environment);
        await using var b = await ProxyUnderTest.StartAsync("ha-e2e", storage + "\n" + ProxyFaultTests.TcpApp(echo.Port), environment);
        await a.ApplyRoleAsync("dev", "allow:\n  app_labels: { env: dev }");
        var alice = await a.IssueAsync("alice", "--roles", "dev");
        var hostCa = await a.ExportHostCaAsync();
        var port = Peer.FreePort();
        await using var nginx = await NginxPeer.StartAsync(_ => Task.FromResult(""), _ => Task.FromResult($$"""
            load_module /usr/lib/nginx/modules/ngx_stream_module.so;
            stream {
                upstream gatehouse { server 127.0.0.1:{{a.Port}}; server 127.0.0.1:{{b.Port}}; }
                # No retry by the balancer: a connection sent to the dead proxy is closed, and the client's one retry
                # (the next connection goes to the other proxy) is what keeps it working.
                server { listen 127.0.0.1:{{port}}; proxy_pass gatehouse; proxy_connect_timeout 5s; proxy_next_upstream off; }
            }
            """), port);
        var balancer = $"127.0.0.1:{port}";
        using var client = new ClientMachine(new Dictionary<string, string> { ["GATEHOUSE_TUNNEL"] = "never" });
        (await client.Cli.RunAsync("login", "--proxy", balancer, "--identity", Path.GetDirectoryName(alice.Certificate)!, "--ca", hostCa))
            .EnsureSuccess("login --identity through the balancer");
        await using var forward = await LocalForward.StartAsync(client, "echo", balancer);
        for (var i = 0; i < 4; i++) await RoundTripAsync(forward.Port, $"both up {i}\n");
        await a.WaitForOutputAsync("to tcp-app:echo ended"); // round robin: both proxies served some of them
        await b.WaitForOutputAsync("to tcp-app:echo ended");

        await a.KillAsync();
        for (var i = 0; i < 8; i++) await RoundTripAsync(forward.Port, $"a is down {i}\n");
        Assert.False(forward.HasExited, forward.Output);

        // A revocation issued through A's side of the cluster (its configuration; A itself is down, the store is not),
        // checked on B: B must refuse carol within 5 s.
        await a.StartProxyAsync();
        var carol = await a.IssueAsync("carol", "--roles", "dev");
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(b, carol, hostCa));
        (await a.Admin.RunAsync("admin", "certs", "revoke", carol.Serial, "--reason", "key-compromise")).EnsureSuccess("certs revoke via A");
        var clock = Stopwatch.StartNew();
        var status = HttpStatusCode.OK;
        while (status == HttpStatusCode.OK && clock.Elapsed < RevocationRequirement * 6) // polled well past the requirement, to report what it is
            status = await WhoAmIAsync(b, carol, hostCa);
        clock.Stop();
        Console.WriteLine($"HA: a revocation issued through proxy A was refused by proxy B after {clock.Elapsed.TotalSeconds:F2} s (requirement: {RevocationRequirement.TotalSeconds:0} s)");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(clock.Elapsed < RevocationRequirement, $"B still accepted the revoked certificate {clock.Elapsed.TotalSeconds:F2} s after the revocation");
    }

    [Fact]
    public async Task Failed_logins_through_both_proxies_count_together_toward_the_users_throttle()
    {
        var (storage, environment) = await NewSharedDatabaseAsync();
        await using var a = await ProxyUnderTest.StartAsync("ha-e2e", storage, environment);
        await using var b = await ProxyUnderTest.StartAsync("ha-e2e", storage, environment);
        await a.ApplyDevRoleAsync();
        await a.AddUserAsync("bob", "--roles", "dev");
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true }, // the throttle is tested, not the proxy's certificate
        }) { Timeout = TimeSpan.FromSeconds(60) };
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        async Task<HttpStatusCode> LoginAsync(ProxyUnderTest proxy, string password)
        {
            using var response = await http.PostAsJsonAsync($"https://{proxy.Address}/v1/login",
                new { user = "bob", password, public_key = key.ExportSubjectPublicKeyInfoPem() });
            return response.StatusCode;
        }

        // The user's limit of failures, split across the two proxies; then the right password is refused by both.
        for (var i = 0; i < Gatehouse.Access.Login.LoginService.MaxFailuresPerUser; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(i % 2 == 0 ? a : b, "a wrong guess"));

        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginAsync(a, ProxyUnderTest.Password));
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginAsync(b, ProxyUnderTest.Password));
    }

    private async Task<(string Storage, Dictionary<string, string> Environment)> NewSharedDatabaseAsync()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync(PostgresServer.NewDatabaseName());
        return ($"storage: {{ kind: postgres, connection_string: \"{connectionString}\" }}",
            new Dictionary<string, string> { ["GATEHOUSE_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) });
    }

    private static async Task<HttpStatusCode> WhoAmIAsync(ProxyUnderTest proxy, IssuedCertificate user, string hostCa)
    {
        var result = await Peer.RunAsync("curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "--cert", user.Certificate,
            "--key", user.Key, "--cacert", hostCa, $"https://{proxy.Address}/v1/whoami");
        result.EnsureSuccess("curl /v1/whoami");
        return (HttpStatusCode)int.Parse(result.Stdout, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task RoundTripAsync(int port, string text)
    {
        using var socket = new System.Net.Sockets.TcpClient { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await EchoCheck.RoundTripAsync(socket.GetStream(), Encoding.ASCII.GetBytes(text));
    }
}
