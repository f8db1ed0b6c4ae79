using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>
/// `gatehouse login` on first contact (issue 19): the profile always pins the cluster's host CA — from --ca, from beside
/// an issued identity, or from the proxy once its fingerprint is confirmed — and never an empty one.
/// </summary>
public sealed class FirstContactTests(LoginCluster cluster) : IClassFixture<LoginCluster>
{
    private ProxyUnderTest Proxy => cluster.Proxy;

    [Fact]
    public async Task Insecure_identity_login_pins_the_host_ca_only_with_its_fingerprint_confirmed()
    {
        var issued = await Proxy.IssueAsync("alice", "--roles", "dev");
        var identity = Path.GetDirectoryName(issued.Certificate)!;
        File.Delete(Path.Combine(identity, "host-ca.pem")); // an identity copied without it, or issued by an older version
        var fingerprint = await FingerprintAsync(cluster.HostCa);
        using var client = new ClientMachine();

        var refused = await client.Cli.RunAsync("login", "--proxy", Proxy.Address, "--identity", identity, "--insecure");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"presents the cluster host CA with SHA-256 fingerprint {fingerprint}; nothing was saved", refused.Stderr);
        Assert.Contains($"--ca-fingerprint {fingerprint}", refused.Stderr);
        Assert.Contains("--ca host-ca.pem", refused.Stderr);
        Assert.False(Directory.Exists(client.ProfileOf(Proxy.Address)));

        var wrong = await client.Cli.RunAsync("login", "--proxy", Proxy.Address, "--identity", identity, "--insecure", "--ca-fingerprint", new string('A', 64));
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains($"presents a host CA with SHA-256 {fingerprint}, not the", wrong.Stderr);
        Assert.False(Directory.Exists(client.ProfileOf(Proxy.Address)));

        // As openssl prints it, prefix and all.
        var login = await client.Cli.RunAsync("login", "--proxy", Proxy.Address, "--identity", identity, "--insecure", "--ca-fingerprint", $"sha256 Fingerprint={fingerprint}");
        Assert.True(login.ExitCode == 0, login.Output);
        Assert.Contains($"pinned the cluster's host CA of {Proxy.Address} (SHA-256 {fingerprint})", login.Stderr);
        await AssertPinnedAsync(client, fingerprint);
    }

    [Fact]
    public async Task An_issued_identity_carries_the_host_ca_so_its_login_needs_neither_ca_nor_insecure()
    {
        var issued = await Proxy.IssueAsync("alice", "--roles", "dev");
        var identity = Path.GetDirectoryName(issued.Certificate)!;
        Assert.Equal(await File.ReadAllTextAsync(cluster.HostCa), await File.ReadAllTextAsync(Path.Combine(identity, "host-ca.pem")));
        using var client = new ClientMachine();
        var login = await client.Cli.RunAsync("login", "--proxy", Proxy.Address, "--identity", identity);
        Assert.True(login.ExitCode == 0, login.Output);
        await AssertPinnedAsync(client, await FingerprintAsync(cluster.HostCa));
    }

    [Fact]
    public async Task Insecure_password_login_asks_for_the_fingerprint_before_the_password_is_sent()
    {
        var fingerprint = await FingerprintAsync(cluster.HostCa);
        using var client = new ClientMachine();
        var loginsBefore = (await Proxy.AuditAsync("--type", "user.login", "--user", "alice")).Count;
        var refused = await client.LoginAsync(Proxy.Address, "alice", ProxyUnderTest.Password, "--insecure");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"--ca-fingerprint {fingerprint}", refused.Stderr);
        Assert.Equal(loginsBefore, (await Proxy.AuditAsync("--type", "user.login", "--user", "alice")).Count); // the password never left

        var login = await client.LoginAsync(Proxy.Address, "alice", ProxyUnderTest.Password, "--insecure", "--ca-fingerprint", fingerprint.Replace(":", "").ToLowerInvariant());
        Assert.True(login.ExitCode == 0, login.Output);
        await AssertPinnedAsync(client, fingerprint);
    }

    private async Task AssertPinnedAsync(ClientMachine client, string fingerprint)
    {
        Assert.Equal(await File.ReadAllTextAsync(cluster.HostCa), await File.ReadAllTextAsync(Path.Combine(client.ProfileOf(Proxy.Address), "host-ca.pem")));
        var status = (await client.Cli.RunAsync("status", "--format", "json")).EnsureSuccess("status");
        using var json = JsonDocument.Parse(status.Stdout);
        Assert.Equal(fingerprint, json.RootElement[0].GetProperty("host_ca_sha256").GetString());
    }

    /// <summary>openssl's SHA-256 fingerprint of a PEM certificate: AB:CD:… .</summary>
    private static async Task<string> FingerprintAsync(string pem)
    {
        var output = (await Peer.RunAsync("openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256")).EnsureSuccess("openssl x509 -fingerprint").Stdout;
        return output.Trim().Split('=')[1];
    }
}
