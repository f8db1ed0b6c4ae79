using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.EndToEnd.Routing;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Faults;

/// <summary>Faults under load (issue 18): the proxy killed with SIGKILL, and a TCP app restarting mid-stream.</summary>
public sealed partial class ProxyFaultTests
{
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Killed_with_sigkill_under_load_every_acknowledged_login_is_audited_and_a_running_proxy_app_serves_its_next_connection()
    {
        using var echo = EchoServer.Start();
        await using var proxy = await ProxyUnderTest.StartAsync("faults", TcpApp(echo.Port));
        await proxy.ApplyRoleAsync("dev", "allow:\n  app_labels: { env: dev }");
        await proxy.AddUserAsync("alice", "--roles", "dev");
        var hostCa = await proxy.ExportHostCaAsync();
        using var client = new ClientMachine(new Dictionary<string, string> { ["GATEHOUSE_TUNNEL"] = "never" });
        (await client.LoginAsync(proxy.Address, "alice", ProxyUnderTest.Password, "--ca", hostCa)).EnsureSuccess("login");
        await using var forward = await LocalForward.StartAsync(client, "echo", proxy.Address);
        await RoundTripAsync(forward.Port, "before the kill\n");

        await using (var load = LoginLoad.Start(proxy.Address, hostCa, "alice", ProxyUnderTest.Password))
        {
            await load.WaitForAcknowledgedAsync(10, Deadline, () => proxy.Output);
            await proxy.KillAsync(); // SIGKILL while logins are in flight
            await load.StopAsync();

            await proxy.StartProxyAsync();
            var audited = LoginLoad.AuditedSerials(await proxy.AuditAsync("--type", "user.login", "--user", "alice", "--limit", "100000"));
            var missing = load.Acknowledged.Select(LoginLoad.Normalise).Where(s => !audited.Contains(s)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of {load.Acknowledged.Count} acknowledged logins are not in the audit trail: {string.Join(", ", missing)}");
        }

        // The same `proxy app` process, never restarted: its next connection dials the new proxy process.
        await RoundTripAsync(forward.Port, "after the restart\n");
        Assert.False(forward.HasExited, forward.Output);
    }

    [Fact]
    public async Task A_tcp_app_restarting_mid_stream_ends_each_tunnelled_session_cleanly_and_leaves_no_tunnel_open()
    {
        using var app = new RestartingTcpApp();
        await using var proxy = await ProxyUnderTest.StartAsync("faults", TcpApp(app.Port));
        await proxy.ApplyRoleAsync("dev", "allow:\n  app_labels: { env: dev }");
        var alice = await proxy.IssueAsync("alice", "--roles", "dev");
        var hostCa = await proxy.ExportHostCaAsync();
        await using var balancer = await PlainBalancer.StartAsync(proxy.Port, hostCa);
        // Tunnels are counted per session: none kept ready (that pool has its own tests, Routing/TunnelPoolTests).
        using var client = await balancer.LoggedInClientAsync(alice.Certificate, hostCa);
        await using var forward = await LocalForward.StartAsync(client, "echo", balancer.Address);

        var sessions = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var session = await forward.ConnectAsync();
                sessions.Add(session);
                await EchoCheck.RoundTripAsync(session.GetStream(), Encoding.ASCII.GetBytes($"session {i}\n"));
            }
            Assert.Equal(4, OpenTunnels(await MetricsAsync(proxy, hostCa)));

            app.Restart();

            // Each client sees its connection end (EOF or a reset) — not a hang, not bytes from somewhere else.
            foreach (var session in sessions)
                Assert.True(await EndsAsync(session.GetStream()), "a session went on after its app was restarted");
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
        await proxy.WaitForOutputAsync("tcp-app:echo ended after");
        var open = -1;
        for (var until = DateTime.UtcNow + Deadline; DateTime.UtcNow < until && open != 0; await Task.Delay(100))
            open = OpenTunnels(await MetricsAsync(proxy, hostCa));
        Assert.True(open == 0, $"{open} tunnel(s) still open after every session ended\n{proxy.Output}");

        // The app is back: the same local port serves a new session.
        using var again = await forward.ConnectAsync();
        await EchoCheck.RoundTripAsync(again.GetStream(), "after the app's restart\n"u8.ToArray());
        Assert.False(forward.HasExited, forward.Output);
    }

    internal static string TcpApp(int port) => $$"""
        resources:
          tcp_apps:
            - name: echo
              addr: 127.0.0.1:{{port}}
              labels: { env: dev }
        """;

    private static async Task RoundTripAsync(int port, string text)
    {
        using var socket = new TcpClient { NoDelay = true };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await EchoCheck.RoundTripAsync(socket.GetStream(), Encoding.ASCII.GetBytes(text));
    }

    /// <summary>True when the stream ends (EOF or reset) before the deadline; false when it is still open then.</summary>
    internal static async Task<bool> EndsAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var buffer = new byte[256];
        try
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal static async Task<string> MetricsAsync(ProxyUnderTest proxy, string hostCa) =>
        (await Peer.RunAsync("curl", "-sS", "--max-time", "20", "--cacert", hostCa, $"https://{proxy.Address}/metrics")).EnsureSuccess("curl /metrics").Stdout;

    /// <summary>The sum of the gatehouse_tunnels_open gauge over its kinds.</summary>
    private static int OpenTunnels(string metrics) =>
        TunnelsOpen().Matches(metrics).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^gatehouse_tunnels_open\{[^}]*\} (\d+)", RegexOptions.Multiline)]
    private static partial Regex TunnelsOpen();
}
