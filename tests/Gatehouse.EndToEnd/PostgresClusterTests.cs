using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>Two proxies on one real PostgreSQL database are one cluster: same CAs, same users, one audit trail.</summary>
public sealed class PostgresClusterTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    [Fact]
    public async Task Two_proxies_on_one_database_share_cas_users_and_the_audit_trail()
    {
        var (storage, environment) = await NewSharedDatabaseAsync();

        await using var a = await ProxyUnderTest.StartAsync("pg-e2e", storage, environment);
        Assert.Contains("Created the cluster in PostgreSQL", a.Output);
        await using var b = await ProxyUnderTest.StartAsync("pg-e2e", storage, environment);
        Assert.Contains("Opened the cluster in PostgreSQL", b.Output);
        Assert.False(File.Exists(a.File("data/master.key")));
        Assert.False(File.Exists(b.File("data/gatehouse.db")));

        var pingA = await PingAsync(a);
        var pingB = await PingAsync(b);
        Assert.Equal(pingA.GetProperty("ca_fingerprints").GetRawText(), pingB.GetProperty("ca_fingerprints").GetRawText());
        Assert.Equal(64, pingA.GetProperty("ca_fingerprints").GetProperty("user_sha256").GetString()!.Length);

        // Configured through A, used through B.
        await a.ApplyDevRoleAsync();
        await a.AddUserAsync("alice", "--roles", "dev", "--traits", "logins=alice-login");
        var hostCaFromB = await b.ExportHostCaAsync();
        using var client = new ClientMachine();
        var login = await client.LoginAsync(b.Address, "alice", ProxyUnderTest.Password, "--ca", hostCaFromB, "--format", "json");
        Assert.True(login.ExitCode == 0, login.Output + "\nproxy B:\n" + b.Output);
        using (var profile = JsonDocument.Parse(login.Stdout))
            Assert.Equal(["alice-login", "ubuntu"], profile.RootElement.GetProperty("profile").GetProperty("logins").EnumerateArray().Select(e => e.GetString()));
        Assert.Single(await a.AuditAsync("--type", "user.login", "--user", "alice")); // B's login, read through A

        var serial = (await a.Admin.RunAsync("admin", "certs", "issue", "--user", "carol", "--out", a.File("carol"))).EnsureSuccess("certs issue via A").Stdout.Trim();
        (await a.Admin.RunAsync("admin", "certs", "revoke", serial, "--reason", "key-compromise")).EnsureSuccess("certs revoke via A");
        var revocations = await b.AuditAsync("--type", "cert.revoke");
        Assert.Contains(revocations, e => e.GetProperty("certificate_serial").GetString() == serial);
    }

    [Fact]
    public async Task A_one_time_code_used_through_one_proxy_is_refused_by_the_other_as_a_wrong_code_would_be()
    {
        var (storage, environment) = await NewSharedDatabaseAsync();
        await using var a = await ProxyUnderTest.StartAsync("pg-e2e", storage, environment);
        await using var b = await ProxyUnderTest.StartAsync("pg-e2e", storage, environment);
        await a.ApplyDevRoleAsync();
        var secret = OneTimeCodes.SecretFromEnrolment(await a.AddUserAsync("bob", "--roles", "dev", "--totp"));
        var hostCa = await a.ExportHostCaAsync();
        using var client = new ClientMachine();

        // The code stays acceptable for a step either side of its own, so a replay within seconds is inside its window.
        var code = OneTimeCodes.Code(secret, DateTimeOffset.UtcNow);
        var wrongCode = ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        // The code's own login and its replay come first, straight after it was computed: on a loaded machine each login
        // (a process start) can take many seconds, and the replay must still fall inside the code's window.
        var first = await client.LoginAsync(a.Address, "bob", ProxyUnderTest.Password, "--ca", hostCa, "--totp", code);
        var replay = await client.LoginAsync(b.Address, "bob", ProxyUnderTest.Password, "--ca", hostCa, "--totp", code);
        var wrong = await client.LoginAsync(b.Address, "bob", ProxyUnderTest.Password, "--ca", hostCa, "--totp", wrongCode);

        Assert.True(first.ExitCode == 0, first.Output + "\nproxy A:\n" + a.Output);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal(1, replay.ExitCode);
        Assert.Equal(wrong.Stderr, replay.Stderr);
        var failures = await a.AuditAsync("--type", "user.login.failed", "--user", "bob");
        Assert.Equal(2, failures.Count);
        Assert.Single(failures, e => e.GetProperty("reason").GetString()!.Contains("replay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_with_postgresql_down_retries_then_names_the_server_and_the_key_to_fix()
    {
        var port = Peer.FreePort(); // nothing listens there
        const string password = "do-not-print-me";
        await using var proxy = await ProxyUnderTest.CreateAsync("pg-down",
            $"storage: {{ kind: postgres, connection_string: \"Host=127.0.0.1;Port={port};Database=gatehouse;Username=gatehouse;Password={password}\" }}");

        var start = await proxy.Admin.RunAsync("start"); // the retries give up after 30 s; RunAsync's deadline is 60 s
        Assert.Equal(2, start.ExitCode);
        var lines = start.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Count(l => l.Contains("retrying in", StringComparison.Ordinal)) >= 2, start.Stderr);
        var last = lines[^1];
        Assert.StartsWith("gatehouse: ", last);
        Assert.Contains($"127.0.0.1:{port}", last);
        Assert.Contains("storage.connection_string", last);
        Assert.DoesNotContain(password, start.Output);
        Assert.DoesNotContain("   at ", start.Stderr);
        Assert.DoesNotContain("Proxy listening", start.Stdout);
    }

    /// <summary>A fresh database and what every proxy of its cluster is started with: the storage section, and the one master
    /// key they all need to open the sealed CA keys.</summary>
    private async Task<(string Storage, Dictionary<string, string> Environment)> NewSharedDatabaseAsync()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync(PostgresServer.NewDatabaseName());
        return ($"storage: {{ kind: postgres, connection_string: \"{connectionString}\" }}",
            new Dictionary<string, string> { ["GATEHOUSE_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) });
    }

    private static async Task<JsonElement> PingAsync(ProxyUnderTest proxy)
    {
        var ping = await Peer.RunAsync("curl", "-sSk", $"https://{proxy.Address}/v1/ping");
        Assert.True(ping.ExitCode == 0, ping.Output);
        using var json = JsonDocument.Parse(ping.Stdout);
        Assert.Equal("pg-e2e", json.RootElement.GetProperty("cluster_name").GetString());
        return json.RootElement.Clone();
    }
}
