using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>An acknowledged login is in the audit trail even when the proxy is killed the moment it answered.</summary>
public sealed class AuditDurabilityTests
{
    [Fact]
    public async Task A_login_is_audited_with_its_serial_after_the_proxy_is_killed_with_sigkill()
    {
        await using var proxy = await ProxyUnderTest.StartAsync("audit-e2e");
        await proxy.ApplyDevRoleAsync();
        await proxy.AddUserAsync("alice", "--roles", "dev", "--traits", "logins=alice-login");
        var hostCa = await proxy.ExportHostCaAsync();
        using var client = new ClientMachine();

        var login = await client.LoginAsync(proxy.Address, "alice", ProxyUnderTest.Password, "--ca", hostCa);
        Assert.True(login.ExitCode == 0, login.Output + "\nproxy:\n" + proxy.Output);
        await proxy.KillAsync(); // SIGKILL right after the answer: no shutdown, no flush but what the login itself did

        await proxy.StartProxyAsync();
        Assert.Contains("Opened the cluster", proxy.Output);
        var serial = (await Peer.RunAsync("openssl", "x509", "-in", Path.Combine(client.ProfileOf(proxy.Address), "cert.pem"), "-noout", "-serial"))
            .EnsureSuccess("openssl x509 -serial").Stdout.Trim();
        Assert.StartsWith("serial=", serial);

        var logins = await proxy.AuditAsync("--type", "user.login", "--user", "alice");
        var audited = Assert.Single(logins);
        Assert.Equal("user.login", audited.GetProperty("type").GetString());
        Assert.Equal("allowed", audited.GetProperty("decision").GetString());
        Assert.Equal("127.0.0.1", audited.GetProperty("source_ip").GetString());
        // openssl prints the DER integer's octets, a leading 00 included when the high bit is set.
        Assert.Equal(serial["serial=".Length..].TrimStart('0'), audited.GetProperty("certificate_serial").GetString()!.TrimStart('0'));
    }
}
