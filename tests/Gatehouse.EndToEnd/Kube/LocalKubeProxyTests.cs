using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Gatehouse.Client.Dialing;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Routing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>
/// The third way in (docs/kubernetes.md): behind a balancer that does NOT forward client certificates — nginx as a
/// plain HTTPS reverse proxy that passes upgrades — `gatehouse proxy kube` serves the cluster on a local port with a
/// local CA of its own, and kubectl (the real program) reaches the API stand-in through the tunnel as alice.
/// </summary>
[Collection(KubeAccessCollection.Name)]
public sealed partial class LocalKubeProxyTests(KubeAccessCluster cluster) : IAsyncLifetime
{
    private PlainBalancer _balancer = null!;

    public async Task InitializeAsync() => _balancer = await PlainBalancer.StartAsync(cluster.Proxy.Port, cluster.HostCa);

    private string Balancer => _balancer.Address;

    [Fact]
    public async Task Kubectl_gets_watches_follows_logs_and_execs_through_gatehouse_proxy_kube_behind_a_balancer_without_mtls()
    {
        using var client = await _balancer.LoggedInClientAsync(cluster.Alice.Certificate, cluster.HostCa);
        var kubeconfig = client.File("local.kubeconfig");
        await using var proxy = client.Cli.Start("proxy", "kube", KubeAccessCluster.ClusterName, "--proxy", Balancer, "--port", "0", "--kubeconfig", kubeconfig);
        await proxy.WaitForOutputAsync("export KUBECONFIG=", TimeSpan.FromSeconds(60));
        Assert.Contains("(tunnel;", proxy.Output, StringComparison.Ordinal); // detected: tunnel through the balancer
        Assert.Matches(ServingLine(), proxy.Output);
        var home = client.File("kube-home");
        Directory.CreateDirectory(home);
        var env = new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = home };
        var before = cluster.Api.Seen.Count;

        var pods = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.True(pods.ExitCode == 0, pods.Output + "\n" + proxy.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, pods.Stdout, StringComparison.Ordinal);
        var seen = cluster.Api.Seen.Skip(before).ToList();
        Assert.Contains(seen, r => r.Path == "/api/v1/namespaces/default/pods");
        Assert.All(seen, r =>
        {
            Assert.Equal(["alice"], r.ImpersonateUser);
            Assert.Equal(["developers", "viewers"], r.ImpersonateGroup);
        });

        await using var watch = BackgroundProcess.Start(Peer.Require("kubectl"), ["get", "pods", "-w"], env);
        await watch.WaitForOutputAsync(KubeApiStandIn.WatchedPod, TimeSpan.FromSeconds(30));
        Assert.False(watch.HasExited, watch.Output);
        await using var logs = BackgroundProcess.Start(Peer.Require("kubectl"), ["logs", "-f", KubeApiStandIn.ListedPod], env);
        await logs.WaitForOutputAsync(KubeApiStandIn.FollowedLogLine, TimeSpan.FromSeconds(30)); // streamed through both forwarders
        Assert.False(logs.HasExited, logs.Output);

        // exec: a WebSocket upgrade through the local proxy, the tunnel and Gatehouse to the API server.
        var echo = await KubeAccessCluster.KubectlAsync(env, "exec", KubeApiStandIn.ListedPod, "--", "echo", "hello");
        Assert.True(echo.ExitCode == 0, echo.Output + "\n" + proxy.Output);
        Assert.Equal("hello", echo.Stdout.Trim());
        var cat = await KubeAccessCluster.KubectlWithStdinAsync(env, "some text", "exec", "-i", KubeApiStandIn.ListedPod, "--", "cat");
        Assert.True(cat.ExitCode == 0, cat.Output + "\n" + proxy.Output);
        Assert.Equal("some text", cat.Stdout.Trim());
        var exec = cluster.Api.Seen.Skip(before).Last(r => r.Path.EndsWith("/exec", StringComparison.Ordinal));
        Assert.Equal("websocket", exec.Upgrade, ignoreCase: true);
        Assert.Equal(["alice"], exec.ImpersonateUser);
    }

    [Fact]
    public async Task Reached_directly_gatehouse_proxy_kube_connects_without_a_tunnel()
    {
        using var client = new ClientMachine();
        (await client.Cli.RunAsync("login", "--proxy", cluster.Proxy.Address, "--identity", Path.GetDirectoryName(cluster.Alice.Certificate)!,
            "--ca", cluster.HostCa)).EnsureSuccess("login --identity");
        var kubeconfig = client.File("direct.kubeconfig");
        await using var proxy = client.Cli.Start("proxy", "kube", KubeAccessCluster.ClusterName, "--proxy", cluster.Proxy.Address, "--port", "0",
            "--kubeconfig", kubeconfig);
        await proxy.WaitForOutputAsync("export KUBECONFIG=", TimeSpan.FromSeconds(60));
        Assert.Contains("(direct;", proxy.Output, StringComparison.Ordinal);
        var home = client.File("kube-home-direct");
        Directory.CreateDirectory(home);

        var pods = await KubeAccessCluster.KubectlAsync(new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = home }, "get", "pods");

        Assert.True(pods.ExitCode == 0, pods.Output + "\n" + proxy.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, pods.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_local_port_refuses_a_client_without_the_local_certificate_and_the_kubeconfig_goes_at_exit()
    {
        using var client = await _balancer.LoggedInClientAsync(cluster.Alice.Certificate, cluster.HostCa);
        var kubeconfig = client.File("local.kubeconfig");
        var proxy = client.Cli.Start("proxy", "kube", KubeAccessCluster.ClusterName, "--proxy", Balancer, "--port", "0", "--kubeconfig", kubeconfig);
        await using (proxy)
        {
            await proxy.WaitForOutputAsync("export KUBECONFIG=", TimeSpan.FromSeconds(60));
            var port = int.Parse(ServingLine().Match(proxy.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(File.Exists(kubeconfig));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kubeconfig));

            // Another local program without the kubeconfig's client certificate gets no answer from the local port.
            var curl = await Peer.RunAsync("curl", ["-sS", "-k", "--max-time", "10", $"https://127.0.0.1:{port}/api"]);
            Assert.NotEqual(0, curl.ExitCode);

            // SIGTERM takes the same path as Ctrl-C (System.CommandLine cancels the command's token for both).
            Assert.True(await proxy.TerminateAsync(TimeSpan.FromSeconds(20)), "SIGTERM should stop the local proxy:\n" + proxy.Output);
        }
        Assert.False(File.Exists(kubeconfig), "the local kubeconfig should be removed when the local proxy stops");
    }

    [Fact]
    public async Task Certificate_headers_inside_a_tunnel_are_never_a_front_even_from_the_fronts_address()
    {
        // The tunnel is opened from 127.0.0.1 — the trusted front's address — and the request inside carries alice's
        // certificate in the front's header with the front's secret. Inside a tunnel nothing is a front: 401, audited.
        var options = new DialerOptions(ProxyAddress.TryParse(cluster.Proxy.Address)!, ClientCertificate: null,
            HostCa: X509CertificateLoader.LoadCertificateFromFile(cluster.HostCa), Tunnel: TunnelSetting.Parse("always"));
        var dialer = new ProxyDialer(options);
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) => (await dialer.ConnectAsync(tunnel: true, ping: false, token)).Transport
                ?? throw new IOException("no tunnel"),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, c, chain, errors) => DialTrust.CheckInner(options.HostCa, c, chain, errors),
            },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{ProxyProtocol.InternalHostName}/kube/{KubeAccessCluster.ClusterName}/api");
        request.Headers.Add("X-Amzn-Mtls-Clientcert", Uri.EscapeDataString(await File.ReadAllTextAsync(cluster.Alice.Certificate)));
        request.Headers.Add(KubeAccessCluster.SecretHeader, cluster.AlbSecret);

        var before = (await cluster.Proxy.AuditAsync("--type", "forged_client_cert_header")).Count;

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var audit = await cluster.Proxy.AuditAsync("--type", "forged_client_cert_header");
        Assert.True(audit.Count > before, "the forged header inside the tunnel should be audited");
        Assert.Contains(audit, e => e.GetProperty("reason").GetString()!.Contains("not a trusted front", StringComparison.Ordinal)
            && e.GetProperty("reason").GetString()!.Contains("x-amzn-mtls-clientcert", StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        if (_balancer is not null) await _balancer.DisposeAsync();
    }

    [GeneratedRegex(@"at https://127\.0\.0\.1:(\d+) via")]
    private static partial Regex ServingLine();
}
