using System.Text;
using System.Text.Json;
using Gatehouse.Routing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// proxy.http_listen and outer/inner binding (issue 7), with nginx in verify mode forwarding plain HTTP: the listener
/// closes peers outside the trusted networks before any HTTP and answers /healthz to trusted ones (as the TLS port
/// does); whoami through nginx is the forwarded certificate's user; a tunnel with alice's certificate outside and inside
/// reaches the app; alice outside and bob inside is refused with a sentence naming both, and audited.
/// </summary>
[Collection(HttpListenCollection.Name)]
public sealed class HttpListenTests(HttpListenCluster cluster)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Http_listen_answers_a_trusted_peer_and_closes_one_outside_the_trusted_networks()
    {
        var url = $"http://127.0.0.1:{cluster.HttpPort}/healthz";

        var trusted = await CurlAsync(url);
        Assert.Equal(0, trusted.ExitCode);
        Assert.Equal("200", StatusOf(trusted));
        Assert.Equal("ok", JsonOf(trusted).GetProperty("status").GetString());

        // 127.0.0.2 is neither in the front's source_cidrs nor a trusted proxy: closed before any HTTP answer. curl reports
        // that as an empty reply (52), a reset (56), or — when the reset lands while it is still checking the connect —
        // as a failed connect (7); the counter going up shows the gate, not a missing listener, did it.
        var refusedBefore = await UntrustedPeerCountAsync();
        var outsider = await CurlAsync("--interface", "127.0.0.2", url);
        Assert.True(outsider.ExitCode is 7 or 52 or 56, $"curl from 127.0.0.2 should see the connection closed:\n{outsider.Output}");
        Assert.Equal("000", StatusOf(outsider));
        Assert.Equal(refusedBefore + 1, await UntrustedPeerCountAsync());

        var tlsPort = await CurlAsync("--cacert", cluster.HostCa, $"https://127.0.0.1:{cluster.Proxy.Port}/healthz");
        Assert.Equal("200", StatusOf(tlsPort));
        Assert.Equal("ok", JsonOf(tlsPort).GetProperty("status").GetString());

        // The metrics page is served on the plain-HTTP port too, and counts the accepted connections by route.
        var metrics = await CurlAsync($"http://127.0.0.1:{cluster.HttpPort}/metrics");
        Assert.Matches(@"gatehouse_connections_total\{[^}]*route=""http""[^}]*\} [1-9]", metrics.Stdout);
    }

    [Fact]
    public async Task Ping_on_http_listen_reports_that_the_proxy_did_not_terminate_tls()
    {
        var ping = await CurlAsync($"http://127.0.0.1:{cluster.HttpPort}/v1/ping");
        Assert.Equal("200", StatusOf(ping));
        Assert.False(JsonOf(ping).GetProperty("seen").GetProperty("tls_terminated_by_proxy").GetBoolean(), ping.Stdout);
    }

    [Fact]
    public async Task Whoami_through_nginx_in_verify_mode_over_plain_http_is_the_forwarded_certificates_user()
    {
        var whoami = await CurlAsync("--cert", cluster.Alice.Certificate, "--key", cluster.Alice.Key, "--cacert", cluster.BalancerCa,
            $"https://127.0.0.1:{cluster.NginxPort}/v1/whoami");
        Assert.Equal("200", StatusOf(whoami));
        var json = JsonOf(whoami);
        Assert.Equal("alice", json.GetProperty("user").GetString());
        Assert.Equal("forwarded-header", json.GetProperty("source").GetString());
        Assert.Equal(HttpListenCluster.Front, json.GetProperty("front").GetString());
    }

    [Fact]
    public async Task A_tunnel_with_alices_certificate_outside_and_inside_reaches_the_app()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var (answer, stream) = await cluster.DialThroughNginxAsync(cluster.Alice, cluster.Alice, "echo", timeout.Token);
        Assert.True(answer.Ok, $"{answer.Code}: {answer.Error}");
        await using (stream!)
        {
            var hello = Encoding.ASCII.GetBytes("hello through a bound tunnel\n");
            await stream!.WriteAsync(hello, timeout.Token);
            await stream.FlushAsync(timeout.Token);
            var back = new byte[hello.Length];
            await stream.ReadExactlyAsync(back, timeout.Token);
            Assert.Equal(hello, back);
        }
    }

    [Fact]
    public async Task A_tunnel_with_alice_outside_and_bob_inside_is_refused_with_both_names_and_audited()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var (answer, stream) = await cluster.DialThroughNginxAsync(cluster.Alice, cluster.Bob, "echo", timeout.Token);
        Assert.Null(stream);
        Assert.False(answer.Ok);
        Assert.Equal(DialCodes.Binding, answer.Code);
        Assert.Contains("alice", answer.Error, StringComparison.Ordinal);
        Assert.Contains("bob", answer.Error, StringComparison.Ordinal);
        Assert.Contains(HttpListenCluster.Front, answer.Error, StringComparison.Ordinal);

        // RecordAsync completes before the answer is written, so the event is there already.
        var events = await cluster.Proxy.AuditAsync("--type", "tunnel.binding_refused");
        var refused = Assert.Single(events, e => e.GetProperty("details").GetProperty("outer_user").GetString() == "alice"
                                                && e.GetProperty("details").GetProperty("inner_user").GetString() == "bob");
        Assert.Equal("bob", refused.GetProperty("user").GetString());
        Assert.Equal("denied", refused.GetProperty("decision").GetString());
        Assert.Equal(HttpListenCluster.Front, refused.GetProperty("details").GetProperty("front").GetString());
        Assert.Equal(cluster.Alice.Serial, refused.GetProperty("details").GetProperty("outer_serial").GetString(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(cluster.Bob.Serial, refused.GetProperty("certificate_serial").GetString(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>gatehouse_handshake_failures_total{reason="untrusted_peer"} from /metrics on the TLS port (0 before the first).</summary>
    private async Task<long> UntrustedPeerCountAsync()
    {
        var metrics = await CurlAsync("--cacert", cluster.HostCa, $"https://127.0.0.1:{cluster.Proxy.Port}/metrics");
        Assert.Equal("200", StatusOf(metrics));
        var match = System.Text.RegularExpressions.Regex.Match(metrics.Stdout, @"gatehouse_handshake_failures_total\{[^}]*reason=""untrusted_peer""[^}]*\} (\d+)");
        return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    private static Task<ProcessResult> CurlAsync(params string[] args) =>
        Peer.RunAsync("curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", .. args], timeout: TimeSpan.FromSeconds(30));

    private static string StatusOf(ProcessResult result) => result.Stdout[(result.Stdout.LastIndexOf('\n') + 1)..];

    private static JsonElement JsonOf(ProcessResult result)
    {
        var body = result.Stdout[..result.Stdout.LastIndexOf('\n')];
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task The_gatehouse_client_logs_in_and_tunnels_an_app_through_the_verify_mode_front_to_http_listen()
    {
        // The whole of deployment (d) in verify mode with an HTTP target group: the client offers alice's certificate
        // on the outer TLS (nginx demands one), the tunnel crosses nginx as plain HTTP to http_listen, and the inner
        // TLS (alice again, so the binding holds) reaches the app.
        var nginx = $"127.0.0.1:{cluster.NginxPort}";
        var identity = Path.GetDirectoryName(cluster.Alice.Certificate)!;
        using var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = cluster.BalancerCa, ["GATEHOUSE_TUNNEL"] = "always" });
        var login = await client.Cli.RunAsync("login", "--proxy", nginx, "--identity", identity, "--ca", cluster.HostCa);
        Assert.True(login.ExitCode == 0, login.Output);

        await using var forward = await Gatehouse.EndToEnd.Routing.LocalForward.StartAsync(client, "echo", nginx);
        using (var socket = await forward.ConnectAsync())
        {
            await Gatehouse.EndToEnd.Routing.EchoCheck.SmallAndBulkAsync(socket.GetStream());
        }
        await forward.WaitForClosedAsync(1, Deadline);
        Assert.Contains("connected to 'echo' (WebSocket)", forward.Output);
    }

    [Fact]
    public async Task Plain_kubectl_with_the_users_certificate_goes_through_the_verify_mode_front_to_http_listen()
    {
        // kubeconfig server https://<balancer>/kube/dev, alice's Gatehouse certificate as the client certificate, the
        // balancer's CA: nginx verifies the certificate, forwards it in X-Amzn-Mtls-Clientcert over plain HTTP, and
        // Gatehouse takes the identity from the header and impersonates alice at the API (a stand-in).
        var before = cluster.KubeApi.Seen.Count;
        var result = await cluster.KubectlGetPodsAsync(cluster.NginxPort);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(Gatehouse.EndToEnd.Kube.KubeApiStandIn.ListedPod, result.Stdout, StringComparison.Ordinal);
        var seen = cluster.KubeApi.Seen.Skip(before).ToList();
        Assert.NotEmpty(seen);
        Assert.All(seen, r =>
        {
            Assert.Equal(["alice"], r.ImpersonateUser);
            Assert.Equal(["developers"], r.ImpersonateGroup);
        });
    }
}
