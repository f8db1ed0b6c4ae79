using System.Security.Cryptography;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Faults;

/// <summary>The PostgreSQL store restarted under load: the proxy reports it on /healthz and recovers by itself.</summary>
public sealed class StoreRestartTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task PostgreSQL_restarted_under_load_turns_healthz_503_then_200_by_itself_and_no_acknowledged_login_is_lost()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync(PostgresServer.NewDatabaseName());
        var environment = new Dictionary<string, string> { ["GATEHOUSE_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) };
        await using var proxy = await ProxyUnderTest.StartAsync("pg-faults", $"storage: {{ kind: postgres, connection_string: \"{connectionString}\" }}", environment);
        await proxy.ApplyDevRoleAsync();
        await proxy.AddUserAsync("alice", "--roles", "dev");
        var hostCa = await proxy.ExportHostCaAsync();
        Assert.Equal(200, await HealthAsync(proxy, hostCa));

        await using var load = LoginLoad.Start(proxy.Address, hostCa, "alice", ProxyUnderTest.Password);
        await load.WaitForAcknowledgedAsync(5, Deadline, () => proxy.Output);
        await postgres.Server.StopAsync();
        await WaitForHealthAsync(proxy, hostCa, 503);
        var beforeRecovery = load.Acknowledged.Count;
        await postgres.Server.StartAgainAsync();
        await WaitForHealthAsync(proxy, hostCa, 200);
        // Logins work again through the same proxy process: it reconnected by itself.
        await load.WaitForAcknowledgedAsync(beforeRecovery + 5, Deadline, () => proxy.Output);
        await load.StopAsync();

        var audited = LoginLoad.AuditedSerials(await proxy.AuditAsync("--type", "user.login", "--user", "alice", "--limit", "100000"));
        var missing = load.Acknowledged.Select(LoginLoad.Normalise).Where(s => !audited.Contains(s)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {load.Acknowledged.Count} acknowledged logins are not in the audit trail");
        Assert.Contains("Health check failed", proxy.Output, StringComparison.OrdinalIgnoreCase);
    }

    internal static async Task<int> HealthAsync(ProxyUnderTest proxy, string hostCa)
    {
        var result = await Peer.RunAsync("curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", hostCa, $"https://{proxy.Address}/healthz");
        return result.ExitCode == 0 ? int.Parse(result.Stdout, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    private static async Task WaitForHealthAsync(ProxyUnderTest proxy, string hostCa, int status)
    {
        var seen = new List<int>();
        for (var until = DateTime.UtcNow + Deadline; DateTime.UtcNow < until; await Task.Delay(200))
        {
            seen.Add(await HealthAsync(proxy, hostCa));
            if (seen[^1] == status) return;
        }
        throw new Xunit.Sdk.XunitException($"/healthz never answered {status} within {Deadline} (answers: {string.Join(' ', seen.Distinct())})\n{proxy.Output}");
    }
}
