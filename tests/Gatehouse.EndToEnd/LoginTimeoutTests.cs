using System.Net;
using System.Net.Sockets;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>
/// A login that times out says so. A timeout surfaces in .NET as a cancellation (HttpClient.Timeout, the handler's
/// connect timeout), which System.CommandLine's default handler turns into exit 1 with nothing on stderr: on a loaded
/// machine a `gatehouse login` once failed that way, with no reason given.
/// </summary>
public sealed class LoginTimeoutTests
{
    [Fact]
    public async Task A_login_to_a_proxy_that_never_answers_exits_1_saying_it_gave_up_waiting()
    {
        // Accepts connections (the kernel completes them) and never says a word: no TLS handshake, no HTTP answer.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var address = $"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        using var client = new ClientMachine();

        var result = await client.LoginAsync(address, "alice", "irrelevant");

        Assert.True(result.ExitCode == 1, result.Output);
        Assert.Contains("gatehouse: gave up waiting for an answer (", result.Stderr);
        Assert.Contains("did not answer in time", result.Stderr);
        Assert.False(Directory.Exists(client.ProfileOf(address)) && Directory.EnumerateFiles(client.ProfileOf(address)).Any(),
            "a login that timed out left files in the profile");
    }
}
