using System.Text.Json;
using Gatehouse.Cluster;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>The admin verbs, run as the real command against a cluster, their output judged by openssl, ssh and sshd.</summary>
public sealed partial class AdminVerbTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private GatehouseCli _cli = null!;

    public async Task InitializeAsync()
    {
        // An operator's company CA, so the ALB bundle has something besides the user CA.
        (await Peer.RunAsync("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", _dir.File("corp.key"), "-out", _dir.File("corp-root.pem"), "-subj", "/O=Corp/CN=Corp Root", "-days", "30",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")).EnsureSuccess("openssl req");
        await File.WriteAllTextAsync(_dir.File("gatehouse.yaml"), """
            cluster_name: admin-e2e
            data_dir: data
            trust:
              client_ca_files: [corp-root.pem]
            """);
        // The cluster exists once `start` has run; opening it directly here is the same code path, without a listener.
        await using var cluster = await ClusterState.OpenAsync(new ClusterOptions("admin-e2e", _dir.File("data"), KeyAlgorithm.EcdsaP256,
            TrustOptions.None, new ValidationOptions(), null), TimeProvider.System, create: true, CancellationToken.None);
        _cli = new GatehouseCli(_dir.Path);
    }

    [Fact]
    public async Task Issued_identity_files_work_with_openssl_and_a_real_sshd()
    {
        var issue = await _cli.RunAsync("admin", "certs", "issue", "--user", "alice", "--roles", "dev,ops", "--logins", Environment.UserName,
            "--ttl", "1h", "--out", "alice");
        Assert.True(issue.ExitCode == 0, issue.Output);
        var serial = issue.Stdout.Trim();
        Assert.Matches("^[0-9A-F]{32}$", serial);
        var files = Path.Combine(_dir.Path, "alice");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(files, "key.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(files, "ssh-key")));

        var verify = await Peer.RunAsync("openssl", "verify", "-CAfile", Path.Combine(files, "ca.pem"), "-purpose", "sslclient", Path.Combine(files, "cert.pem"));
        Assert.True(verify.ExitCode == 0, verify.Output);
        var subject = await Peer.RunAsync("openssl", "x509", "-in", Path.Combine(files, "cert.pem"), "-noout", "-subject", "-serial", "-pubkey");
        Assert.Contains("subject=O = admin-e2e, CN = alice", subject.Stdout);
        Assert.Contains($"serial={serial}", subject.Stdout);
        var keyPublic = await Peer.RunAsync("openssl", "pkey", "-in", Path.Combine(files, "key.pem"), "-pubout");
        Assert.Contains(keyPublic.Stdout.Trim(), subject.Stdout); // the key belongs to the certificate

        var listing = await Peer.RunAsync("ssh-keygen", "-L", "-f", Path.Combine(files, "ssh-cert.pub"));
        Assert.True(listing.ExitCode == 0, listing.Output);
        Assert.Contains("Key ID: \"alice\"", listing.Stdout);
        Assert.Contains(Environment.UserName, listing.Stdout);

        (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-user", "--out", "ssh-ca.pub")).EnsureSuccess("ca export ssh-user");
        await using var sshd = await SshdPeer.StartAsync(_dir.File("ssh-ca.pub"));
        var login = await sshd.LoginAsync(Path.Combine(files, "ssh-key"), Path.Combine(files, "ssh-cert.pub"), Environment.UserName);
        Assert.True(login.ExitCode == 0, login.Output + "\nsshd:\n" + sshd.Output);
        Assert.Equal("gatehouse-ok", login.Stdout.Trim());

        // Without logins there is no principal anyone can log in as (an empty list would mean "anyone" to OpenSSH).
        (await _cli.RunAsync("admin", "certs", "issue", "--user", "nologin", "--out", "nologin")).EnsureSuccess("issue without logins");
        var refused = await sshd.LoginAsync(Path.Combine(_dir.Path, "nologin", "ssh-key"), Path.Combine(_dir.Path, "nologin", "ssh-cert.pub"), Environment.UserName);
        Assert.Equal(255, refused.ExitCode);
    }

    [Fact]
    public async Task Issue_prints_json_on_request()
    {
        var result = await _cli.RunAsync("admin", "certs", "issue", "--user", "bob", "--out", "bob", "--format", "json");
        Assert.True(result.ExitCode == 0, result.Output);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("bob", json.RootElement.GetProperty("user").GetString());
        Assert.Matches("^[0-9A-F]{32}$", json.RootElement.GetProperty("serial").GetString());
        Assert.True(File.Exists(json.RootElement.GetProperty("files").GetProperty("cert.pem").GetString()));
    }

    [Fact]
    public async Task Issue_above_the_lifetime_ceiling_needs_the_explicit_flag_and_is_audited()
    {
        var refused = await _cli.RunAsync("admin", "certs", "issue", "--user", "mallory", "--ttl", "30d", "--out", "mallory");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("pki.max_user_cert_ttl (12h)", refused.Stderr);
        Assert.Contains("--ttl", refused.Stderr);
        Assert.Contains("--allow-ttl-above-max", refused.Stderr);
        Assert.False(Directory.Exists(_dir.File("mallory")));

        var issued = await _cli.RunAsync("admin", "certs", "issue", "--user", "mallory", "--ttl", "30d", "--allow-ttl-above-max", "--out", "mallory");
        Assert.True(issued.ExitCode == 0, issued.Output);
        Assert.Equal(TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1), await OpensslDates.LifetimeAsync(_dir.File("mallory/cert.pem")));

        var audit = await _cli.RunAsync("admin", "audit", "--user", "mallory", "--format", "json");
        Assert.True(audit.ExitCode == 0, audit.Output);
        using var events = JsonDocument.Parse(audit.Stdout);
        var above = Assert.Single(events.RootElement.EnumerateArray(), e => e.GetProperty("type").GetString() == "cert.ttl_above_max");
        Assert.Contains("30d", above.GetProperty("reason").GetString());
        Assert.Equal(Environment.UserName, above.GetProperty("details").GetProperty("operator").GetString());
        Assert.Equal("30d", above.GetProperty("details").GetProperty("ttl").GetString());
        var issue = Assert.Single(events.RootElement.EnumerateArray(), e => e.GetProperty("type").GetString() == "cert.issue");
        Assert.Equal(issued.Stdout.Trim(), issue.GetProperty("certificate_serial").GetString());
        Assert.Equal("30d", issue.GetProperty("details").GetProperty("above_max_user_cert_ttl").GetString());

        // A lower ceiling in the configuration brings the default lifetime down with it.
        await File.WriteAllTextAsync(_dir.File("capped.yaml"), "cluster_name: admin-e2e\ndata_dir: data\npki: { max_user_cert_ttl: 1h }\n");
        (await _cli.RunAsync("admin", "certs", "issue", "--config", "capped.yaml", "--user", "pat", "--out", "pat")).EnsureSuccess("certs issue under 1h");
        Assert.Equal(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1), await OpensslDates.LifetimeAsync(_dir.File("pat/cert.pem")));
        var aboveOne = await _cli.RunAsync("admin", "certs", "issue", "--config", "capped.yaml", "--user", "pat", "--ttl", "2h", "--out", "pat2");
        Assert.Equal(1, aboveOne.ExitCode);
        Assert.Contains("pki.max_user_cert_ttl (1h)", aboveOne.Stderr);

        // Within the ceiling the flag changes nothing and leaves no such trace.
        (await _cli.RunAsync("admin", "certs", "issue", "--user", "nina", "--ttl", "12h", "--allow-ttl-above-max", "--out", "nina")).EnsureSuccess("certs issue 12h");
        Assert.DoesNotContain("cert.ttl_above_max", (await _cli.RunAsync("admin", "audit", "--user", "nina", "--format", "json")).Stdout);
    }

    [Fact]
    public async Task Ca_export_writes_pem_alb_bundle_and_openssh_forms()
    {
        var pem = (await _cli.RunAsync("admin", "ca", "export")).EnsureSuccess("ca export").Stdout;
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", pem);
        Assert.Equal(1, CountBlocks(pem));

        (await _cli.RunAsync("admin", "ca", "export", "--format", "alb", "--out", "alb-bundle.pem")).EnsureSuccess("ca export alb");
        var bundle = await File.ReadAllTextAsync(_dir.File("alb-bundle.pem"));
        Assert.Equal(2, CountBlocks(bundle)); // the user CA and the operator's company root
        Assert.DoesNotContain("\n\n", bundle);
        Assert.DoesNotContain("\r", bundle);
        Assert.All(bundle.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.False(line.StartsWith('#'), line));
        Assert.StartsWith(pem.Trim(), bundle); // the user CA comes first
        Assert.Contains((await File.ReadAllTextAsync(_dir.File("corp-root.pem"))).Trim(), bundle);
        var parsed = await Peer.RunAsync("openssl", "storeutl", "-noout", "-certs", _dir.File("alb-bundle.pem"));
        Assert.Contains("Total found: 2", parsed.Output);

        (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-user", "--out", "ssh-ca.pub")).EnsureSuccess("ca export openssh");
        var fingerprint = await Peer.RunAsync("ssh-keygen", "-l", "-f", _dir.File("ssh-ca.pub"));
        Assert.True(fingerprint.ExitCode == 0, fingerprint.Output);
        Assert.Contains("(ECDSA)", fingerprint.Stdout);

        var mismatch = await _cli.RunAsync("admin", "ca", "export", "--kind", "user", "--format", "openssh");
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("--kind ssh-user", mismatch.Stderr);
    }

    [Fact]
    public async Task Revoked_serials_appear_in_the_next_crl_and_unknown_ones_are_refused()
    {
        var serial = (await _cli.RunAsync("admin", "certs", "issue", "--user", "carol", "--out", "carol")).EnsureSuccess("issue").Stdout.Trim();
        var revoke = await _cli.RunAsync("admin", "certs", "revoke", serial, "--reason", "key-compromise", "--format", "json");
        Assert.True(revoke.ExitCode == 0, revoke.Output);
        Assert.Equal("revoked", JsonDocument.Parse(revoke.Stdout).RootElement.GetProperty("status").GetString());
        var again = await _cli.RunAsync("admin", "certs", "revoke", serial.ToLowerInvariant());
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already revoked", again.Stdout);

        (await _cli.RunAsync("admin", "crl", "export", "--out", "first.crl")).EnsureSuccess("crl export pem");
        var exported = (await _cli.RunAsync("admin", "crl", "export", "--format", "der", "--out", "second.crl", "--valid-for", "2d")).EnsureSuccess("crl export der");
        Assert.Contains("its nextUpdate is", exported.Stderr); // what a balancer's copy must be refreshed before
        (await _cli.RunAsync("admin", "ca", "export", "--out", "user-ca.pem")).EnsureSuccess("ca export");
        var first = await Peer.RunAsync("openssl", "crl", "-in", _dir.File("first.crl"), "-CAfile", _dir.File("user-ca.pem"), "-verify", "-noout", "-crlnumber");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("verify OK", first.Output);
        var second = await Peer.RunAsync("openssl", "crl", "-inform", "DER", "-in", _dir.File("second.crl"), "-CAfile", _dir.File("user-ca.pem"),
            "-verify", "-noout", "-text");
        Assert.Contains("verify OK", second.Output);
        Assert.Matches($"Serial Number: (00)?{serial}", second.Stdout);
        Assert.Contains("Key Compromise", second.Stdout);
        Assert.Equal("crlNumber=0x01", first.Stdout.Trim()); // each export has the next number
        Assert.Equal("2", CrlNumber(second.Stdout));
        var nextUpdate = (await Peer.RunAsync("openssl", "crl", "-inform", "DER", "-in", _dir.File("second.crl"), "-noout", "-nextupdate")).Stdout;
        var next = DateTimeOffset.ParseExact(string.Join(' ', nextUpdate.Trim()["nextUpdate=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)),
            "MMM d HH:mm:ss yyyy 'GMT'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
        Assert.InRange(next - DateTimeOffset.UtcNow, TimeSpan.FromDays(1.9), TimeSpan.FromDays(2.1));

        var unknown = await _cli.RunAsync("admin", "certs", "revoke", "0BADC0DE");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no certificate with serial 0BADC0DE", unknown.Stderr);
        var nonsense = await _cli.RunAsync("admin", "certs", "revoke", "not-hex");
        Assert.Equal(1, nonsense.ExitCode);
        Assert.Contains("is not a serial number", nonsense.Stderr);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("admin")]
    [InlineData("admin", "ca", "export")]
    [InlineData("admin", "crl", "export")]
    [InlineData("admin", "certs", "issue")]
    [InlineData("admin", "certs", "issue-host")]
    [InlineData("admin", "certs", "revoke")]
    public async Task Every_verb_explains_itself(params string[] verb)
    {
        var help = await _cli.RunAsync([.. verb, "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:", help.Stdout);
        Assert.Contains(verb[^1], help.Stdout);
    }

    private static int CountBlocks(string pem) => pem.Split("-----BEGIN CERTIFICATE-----").Length - 1;

    private static string CrlNumber(string text)
    {
        var lines = text.Split('\n');
        var index = Array.FindIndex(lines, l => l.Contains("CRL Number"));
        return lines[index + 1].Trim();
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
