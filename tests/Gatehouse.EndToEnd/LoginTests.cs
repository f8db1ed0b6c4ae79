using System.Globalization;
using System.Text.Json;
using Gatehouse.Cluster;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>One running proxy with the dev role, alice, and the host CA exported, shared by the tests of <see cref="LoginTests"/>.</summary>
public sealed class LoginCluster : IAsyncLifetime
{
    internal ProxyUnderTest Proxy { get; private set; } = null!;

    internal string HostCa { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Proxy = await ProxyUnderTest.StartAsync("login-e2e");
        await Proxy.ApplyDevRoleAsync();
        await Proxy.AddUserAsync("alice", "--roles", "dev", "--traits", "logins=alice-login");
        HostCa = await Proxy.ExportHostCaAsync();
    }

    public async Task DisposeAsync()
    {
        if (Proxy is not null) await Proxy.DisposeAsync();
    }
}

/// <summary>`gatehouse login` against a real proxy: the profile it writes, judged by openssl and ssh-keygen; every refusal, and its audit trail.</summary>
public sealed class LoginTests(LoginCluster cluster) : IClassFixture<LoginCluster>
{
    private const string Generic = "gatehouse: login refused: invalid user name, password or one-time code";
    private const string IdentityExtensionOid = "1.3.9999.4791.1";

    private ProxyUnderTest Proxy => cluster.Proxy;

    [Fact]
    public async Task Password_login_writes_a_profile_standard_tools_accept_with_the_ttl_capped_by_the_role()
    {
        using var client = new ClientMachine();
        var login = await client.LoginAsync(Proxy.Address, "alice", ProxyUnderTest.Password, "--ca", cluster.HostCa, "--ttl", "8h");
        Assert.True(login.ExitCode == 0, login.Output + "\nproxy:\n" + Proxy.Output);

        var profile = client.ProfileOf(Proxy.Address);
        foreach (var name in new[] { "cert.pem", "key.pem", "ca.pem", "host-ca.pem", "ssh-key", "ssh-key.pub", "ssh-cert.pub", "profile.json" })
            Assert.True(File.Exists(Path.Combine(profile, name)), $"{name} is missing from {profile}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(profile, "key.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(profile, "ssh-key")));
        Assert.Equal(await File.ReadAllTextAsync(cluster.HostCa), await File.ReadAllTextAsync(Path.Combine(profile, "host-ca.pem")));

        string In(string name) => Path.Combine(profile, name);
        var verify = await Peer.RunAsync("openssl", "verify", "-CAfile", In("ca.pem"), "-purpose", "sslclient", In("cert.pem"));
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("cert.pem: OK", verify.Stdout);

        // The identity travels in our extension, a UTF8String of JSON that openssl prints as text after the OID.
        var text = (await Peer.RunAsync("openssl", "x509", "-in", In("cert.pem"), "-noout", "-text")).EnsureSuccess("openssl x509 -text").Stdout;
        Assert.Contains("Subject: O = login-e2e, CN = alice", text);
        var lines = text.Split('\n');
        var oidLine = Array.FindIndex(lines, l => l.Trim().StartsWith(IdentityExtensionOid, StringComparison.Ordinal));
        Assert.True(oidLine >= 0, text);
        var extension = lines[oidLine + 1];
        Assert.Contains("\"roles\":[\"dev\"]", extension);
        using var claims = JsonDocument.Parse(extension[extension.IndexOf('{', StringComparison.Ordinal)..].Trim());
        var logins = claims.RootElement.GetProperty("logins").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("alice-login", logins); // {{internal.logins}} expanded from alice's trait
        Assert.Contains("ubuntu", logins);
        Assert.Equal("login", claims.RootElement.GetProperty("issued_via").GetString());

        // 8h was asked for; the role allows 2h. notBefore is back-dated a minute for clock skew.
        var lifetime = await OpensslDates.LifetimeAsync(In("cert.pem"));
        Assert.InRange(lifetime, TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(2),
            TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(2));

        var certificateKey = (await Peer.RunAsync("openssl", "x509", "-in", In("cert.pem"), "-noout", "-pubkey")).EnsureSuccess("x509 -pubkey").Stdout;
        var privateKeysPublic = (await Peer.RunAsync("openssl", "pkey", "-in", In("key.pem"), "-pubout")).EnsureSuccess("pkey -pubout").Stdout;
        Assert.Equal(certificateKey.Trim(), privateKeysPublic.Trim());

        var ssh = await Peer.RunAsync("ssh-keygen", "-L", "-f", In("ssh-cert.pub"));
        Assert.True(ssh.ExitCode == 0, ssh.Output);
        Assert.Contains("Key ID: \"alice\"", ssh.Stdout);
        var principals = ssh.Stdout[ssh.Stdout.IndexOf("Principals:", StringComparison.Ordinal)..ssh.Stdout.IndexOf("Critical Options:", StringComparison.Ordinal)];
        Assert.Contains("alice-login", principals);
        Assert.Contains("ubuntu", principals);

        var status = await client.Cli.RunAsync("status", "--format", "json");
        Assert.True(status.ExitCode == 0, status.Output);
        using (var profiles = JsonDocument.Parse(status.Stdout))
        {
            var only = Assert.Single(profiles.RootElement.EnumerateArray());
            Assert.Equal(Proxy.Address, only.GetProperty("proxy").GetString());
            Assert.Equal("alice", only.GetProperty("user").GetString());
            Assert.Equal("login-e2e", only.GetProperty("cluster_name").GetString());
            Assert.True(only.GetProperty("current").GetBoolean());
            Assert.False(only.GetProperty("expired").GetBoolean());
        }

        var logout = await client.Cli.RunAsync("logout");
        Assert.True(logout.ExitCode == 0, logout.Output);
        Assert.False(Directory.Exists(profile), "logout left the profile's keys behind");
        Assert.Equal("[]", (await client.Cli.RunAsync("status", "--format", "json")).EnsureSuccess("status after logout").Stdout.Trim());
    }

    [Fact]
    public async Task A_year_asked_for_without_a_role_limit_gets_the_clusters_twelve_hour_ceiling_and_says_so()
    {
        await Proxy.ApplyRoleAsync("no-limit", "allow:\n  logins: [ubuntu]");
        await Proxy.AddUserAsync("olga", "--roles", "no-limit");
        using var client = new ClientMachine();

        var login = await client.LoginAsync(Proxy.Address, "olga", ProxyUnderTest.Password, "--ca", cluster.HostCa, "--ttl", "366d");

        Assert.True(login.ExitCode == 0, login.Output + "\nproxy:\n" + Proxy.Output);
        Assert.Contains("pki.max_user_cert_ttl", login.Stderr);
        var profile = client.ProfileOf(Proxy.Address);
        // Issued to the second; notBefore is back-dated a minute for clock skew.
        Assert.Equal(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1), await OpensslDates.LifetimeAsync(Path.Combine(profile, "cert.pem")));
        var ssh = (await Peer.RunAsync("ssh-keygen", "-L", "-f", Path.Combine(profile, "ssh-cert.pub"))).EnsureSuccess("ssh-keygen -L").Stdout;
        var valid = System.Text.RegularExpressions.Regex.Match(ssh, @"Valid: from (\S+) to (\S+)");
        Assert.True(valid.Success, ssh);
        Assert.Equal(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1),
            DateTime.Parse(valid.Groups[2].Value, CultureInfo.InvariantCulture) - DateTime.Parse(valid.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Refusals_do_not_tell_unknown_users_from_wrong_passwords_and_are_all_audited()
    {
        await Proxy.AddUserAsync("dave", "--roles", "dev");
        using var client = new ClientMachine();
        var ca = new[] { "--ca", cluster.HostCa };

        var wrongPassword = await client.LoginAsync(Proxy.Address, "dave", "not dave's password", ca);
        var unknownUser = await client.LoginAsync(Proxy.Address, "nobody-here", "not dave's password", ca);
        Assert.Equal(1, wrongPassword.ExitCode);
        Assert.Equal(1, unknownUser.ExitCode);
        Assert.Equal(Generic, wrongPassword.Stderr.Trim());
        Assert.Equal(wrongPassword.Stderr, unknownUser.Stderr);

        // Only someone who knows the password learns that the account is locked.
        (await Proxy.Admin.RunAsync("admin", "users", "lock", "dave")).EnsureSuccess("users lock");
        var locked = await client.LoginAsync(Proxy.Address, "dave", ProxyUnderTest.Password, ca);
        Assert.Equal(1, locked.ExitCode);
        Assert.Contains("locked", locked.Stderr);
        var lockedWrong = await client.LoginAsync(Proxy.Address, "dave", "not dave's password", ca);
        Assert.Equal(1, lockedWrong.ExitCode);
        Assert.Equal(wrongPassword.Stderr, lockedWrong.Stderr);
        (await Proxy.Admin.RunAsync("admin", "users", "unlock", "dave")).EnsureSuccess("users unlock"); // also forgets the failures so far

        // Five wrong guesses, and the right password is no longer enough.
        for (var i = 0; i < 5; i++)
            Assert.Equal(wrongPassword.Stderr, (await client.LoginAsync(Proxy.Address, "dave", $"guess number {i}", ca)).Stderr);
        var throttled = await client.LoginAsync(Proxy.Address, "dave", ProxyUnderTest.Password, ca);
        Assert.Equal(1, throttled.ExitCode);
        Assert.Contains("too many failed logins", throttled.Stderr);
        Assert.False(Directory.Exists(client.ProfileOf(Proxy.Address)));
        (await Proxy.Admin.RunAsync("admin", "users", "unlock", "dave")).EnsureSuccess("users unlock after throttling");
        var again = await client.LoginAsync(Proxy.Address, "dave", ProxyUnderTest.Password, ca);
        Assert.True(again.ExitCode == 0, again.Output);

        // TOTP: the code is computed here from the enrolment URI, as an authenticator app would.
        var enrolment = await Proxy.AddUserAsync("bob", "--totp");
        var secret = OneTimeCodes.SecretFromEnrolment(enrolment);
        var noCode = await client.LoginAsync(Proxy.Address, "bob", ProxyUnderTest.Password, ca);
        Assert.Equal(1, noCode.ExitCode);
        Assert.Equal(wrongPassword.Stderr, noCode.Stderr);
        var withCode = await client.LoginAsync(Proxy.Address, "bob", ProxyUnderTest.Password, [.. ca, "--totp", OneTimeCodes.Code(secret, DateTimeOffset.UtcNow)]);
        Assert.True(withCode.ExitCode == 0, withCode.Output);

        // The proxy's certificate is from the cluster's host CA, which this machine does not trust by itself.
        using var stranger = new ClientMachine();
        var untrusted = await stranger.LoginAsync(Proxy.Address, "dave", ProxyUnderTest.Password);
        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains("--ca", untrusted.Stderr);
        Assert.False(Directory.Exists(stranger.Home));

        var failures = await Proxy.AuditAsync("--type", "user.login.failed", "--limit", "1000");
        Assert.All(failures, e => Assert.Equal("127.0.0.1", e.GetProperty("source_ip").GetString()));
        Assert.All(failures, e => Assert.Equal("denied", e.GetProperty("decision").GetString()));
        string[] Reasons(string user) => [.. failures.Where(e => e.GetProperty("user").GetString() == user).Select(e => e.GetProperty("reason").GetString()!)];
        Assert.Equal(7, Reasons("dave").Count(r => r.StartsWith("Unauthenticated:", StringComparison.Ordinal))); // 1 + 1 while locked + 5
        Assert.Single(Reasons("dave"), r => r.StartsWith("Locked:", StringComparison.Ordinal));
        Assert.Single(Reasons("dave"), r => r.StartsWith("Throttled:", StringComparison.Ordinal));
        Assert.Single(Reasons("nobody-here"), r => r.StartsWith("Unauthenticated:", StringComparison.Ordinal));
        Assert.Single(Reasons("bob"), r => r.StartsWith("Unauthenticated:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_issued_identity_becomes_a_profile_but_one_from_another_cluster_is_refused()
    {
        using var client = new ClientMachine();
        (await Proxy.Admin.RunAsync("admin", "certs", "issue", "--user", "carol", "--roles", "dev", "--out", client.File("carol"))).EnsureSuccess("certs issue carol");
        var login = await client.Cli.RunAsync("login", "--proxy", Proxy.Address, "--identity", "carol", "--ca", cluster.HostCa);
        Assert.True(login.ExitCode == 0, login.Output);
        var profile = client.ProfileOf(Proxy.Address);
        Assert.Equal(await File.ReadAllTextAsync(client.File("carol/cert.pem")), await File.ReadAllTextAsync(Path.Combine(profile, "cert.pem")));
        Assert.Equal(await File.ReadAllTextAsync(client.File("carol/key.pem")), await File.ReadAllTextAsync(Path.Combine(profile, "key.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(profile, "key.pem")));
        using (var saved = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(profile, "profile.json"))))
        {
            Assert.Equal("carol", saved.RootElement.GetProperty("user").GetString());
            Assert.Equal("identity", saved.RootElement.GetProperty("source").GetString());
            Assert.Equal(["dev"], saved.RootElement.GetProperty("roles").EnumerateArray().Select(e => e.GetString()));
        }

        // Another cluster, even of the same name, has other CAs: its identity means nothing here.
        await File.WriteAllTextAsync(client.File("other.yaml"), "cluster_name: login-e2e\ndata_dir: other-data\n");
        await using (await ClusterState.OpenAsync(new ClusterOptions("login-e2e", client.File("other-data"), KeyAlgorithm.EcdsaP256, TrustOptions.None,
            new ValidationOptions(), null), TimeProvider.System, create: true, CancellationToken.None)) { }
        (await client.Cli.RunAsync("admin", "certs", "issue", "--config", "other.yaml", "--user", "carol", "--roles", "dev", "--out", "foreign"))
            .EnsureSuccess("certs issue in the other cluster");
        using var elsewhere = new ClientMachine();
        var foreign = await elsewhere.Cli.RunAsync("login", "--proxy", Proxy.Address, "--identity", client.File("foreign"), "--ca", cluster.HostCa);
        Assert.Equal(1, foreign.ExitCode);
        Assert.Contains("another cluster", foreign.Stderr);
        Assert.False(Directory.Exists(elsewhere.ProfileOf(Proxy.Address)));
    }
}
