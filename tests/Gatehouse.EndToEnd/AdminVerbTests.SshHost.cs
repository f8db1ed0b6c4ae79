using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>Host trust (issue 13): `admin certs issue-host --ssh` and `admin ca export --kind ssh-host`, judged by a real
/// sshd presenting the host certificate and a real ssh that trusts nothing but the exported line.</summary>
public sealed partial class AdminVerbTests
{
    private static readonly UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task Ssh_trusts_a_node_with_an_issued_host_certificate_through_the_exported_ca_line_alone()
    {
        var issue = await _cli.RunAsync("admin", "certs", "issue-host", "--ssh", "--name", "node1", "--principals", "node1,127.0.0.1", "--out", "node1");
        Assert.True(issue.ExitCode == 0, issue.Output);
        var node = _dir.File("node1");
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(Path.Combine(node, "ssh_host_ecdsa_key")));
        Assert.Equal([$"HostKey {node}/ssh_host_ecdsa_key", $"HostCertificate {node}/ssh_host_ecdsa_key-cert.pub"],
            issue.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var listing = (await Peer.RunAsync("ssh-keygen", "-L", "-f", Path.Combine(node, "ssh_host_ecdsa_key-cert.pub"))).EnsureSuccess("ssh-keygen -L");
        Assert.Contains("ecdsa-sha2-nistp256-cert-v01@openssh.com host certificate", listing.Stdout);
        Assert.Matches(@"Principals: \n\s+node1\n\s+127\.0\.0\.1\n", listing.Stdout);

        (await _cli.RunAsync("admin", "certs", "issue", "--user", "alice", "--logins", Environment.UserName, "--out", "alice")).EnsureSuccess("certs issue");
        (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-user", "--out", "ssh-user-ca.pub")).EnsureSuccess("ca export ssh-user");
        (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-host", "--out", "known_hosts")).EnsureSuccess("ca export ssh-host");
        var line = Assert.Single(await File.ReadAllLinesAsync(_dir.File("known_hosts")));
        Assert.Matches(@"^@cert-authority \* ecdsa-sha2-nistp256 AAAA[A-Za-z0-9+/=]+ gatehouse-admin-e2e-host-ca$", line);

        await using var sshd = await SshdPeer.StartAsync(_dir.File("ssh-user-ca.pub"), hostKey:
            new SshdHostKey(Path.Combine(node, "ssh_host_ecdsa_key"), Path.Combine(node, "ssh_host_ecdsa_key-cert.pub")));
        Task<ProcessResult> LoginAsync(string knownHosts) =>
            sshd.LoginAsync(_dir.File("alice/ssh-key"), _dir.File("alice/ssh-cert.pub"), Environment.UserName, _dir.File(knownHosts));

        var login = await LoginAsync("known_hosts");
        Assert.True(login.ExitCode == 0, login.Output + "\nsshd:\n" + sshd.Output);
        Assert.Equal("gatehouse-ok", login.Stdout.Trim());
        // Off port 22 ssh looks the host up as [host]:port, which a narrowed line names so (docs/ssh.md).
        (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-host", "--hosts", "[127.0.0.1]:*", "--out", "port_known_hosts"))
            .EnsureSuccess("ca export --hosts [host]:*");
        var byPort = await LoginAsync("port_known_hosts");
        Assert.True(byPort.ExitCode == 0, byPort.Output);

        // Another CA's line vouches for nothing here, and neither does ours narrowed to other hosts.
        (await Peer.RunAsync("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", _dir.File("other-ca"))).EnsureSuccess("ssh-keygen other CA");
        await File.WriteAllTextAsync(_dir.File("other_known_hosts"), $"@cert-authority * {await File.ReadAllTextAsync(_dir.File("other-ca.pub"))}");
        (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-host", "--hosts", "*.example.com", "--out", "narrow_known_hosts"))
            .EnsureSuccess("ca export --hosts");
        foreach (var knownHosts in new[] { "other_known_hosts", "narrow_known_hosts" })
        {
            var refused = await LoginAsync(knownHosts);
            Assert.True(refused.ExitCode == 255, $"{knownHosts}: ssh exited {refused.ExitCode}:\n{refused.Output}");
            Assert.Contains("Host key verification failed", refused.Stderr);
            Assert.DoesNotContain("gatehouse-ok", refused.Stdout);
        }

        var audit = (await _cli.RunAsync("admin", "audit", "--type", "cert.issue", "--format", "json")).EnsureSuccess("audit");
        using var events = JsonDocument.Parse(audit.Stdout);
        var host = Assert.Single(events.RootElement.EnumerateArray(), e => e.GetProperty("resource").GetString() == "node1");
        Assert.Equal("ssh-host", host.GetProperty("details").GetProperty("kind").GetString());
        Assert.Equal("node1,127.0.0.1", host.GetProperty("details").GetProperty("principals").GetString());
    }

    [Fact]
    public async Task Issue_host_says_what_is_missing_or_wrong_and_writes_nothing()
    {
        async Task<string> RefusedAsync(params string[] args)
        {
            var result = await _cli.RunAsync(["admin", "certs", "issue-host", .. args]);
            Assert.True(result.ExitCode != 0, result.Output);
            return result.Stderr;
        }
        Assert.Contains("needs --ssh", await RefusedAsync("--name", "n", "--principals", "n", "--out", "n"));
        Assert.Contains("X.509", await RefusedAsync("--name", "n", "--principals", "n", "--out", "n"));
        Assert.Contains("--name", await RefusedAsync("--ssh", "--principals", "n", "--out", "n"));
        Assert.Contains("--principals: a host certificate needs at least one principal", await RefusedAsync("--ssh", "--name", "n", "--principals", " , ", "--out", "n"));
        Assert.Contains("--principals: 'bad name', 'a/b' are neither a DNS name nor an IP address",
            await RefusedAsync("--ssh", "--name", "n", "--principals", "n,bad name,a/b", "--out", "n"));
        Assert.Contains("--ttl: 'soon' is not a duration", await RefusedAsync("--ssh", "--name", "n", "--principals", "n", "--ttl", "soon", "--out", "n"));
        Assert.False(Directory.Exists(_dir.File("n")));

        await File.WriteAllTextAsync(_dir.File("a-file"), "not a directory");
        Assert.Contains("a-file is a file", await RefusedAsync("--ssh", "--name", "n", "--principals", "n", "--out", "a-file"));
        Assert.Contains("cannot create", await RefusedAsync("--ssh", "--name", "n", "--principals", "n", "--out", "a-file/sub"));
        Assert.Equal("not a directory", await File.ReadAllTextAsync(_dir.File("a-file")));

        // A node's existing key is replaced only when asked to.
        (await _cli.RunAsync("admin", "certs", "issue-host", "--ssh", "--name", "n", "--principals", "n", "--ttl", "90d", "--out", "n"))
            .EnsureSuccess("issue-host");
        var key = await File.ReadAllTextAsync(_dir.File("n/ssh_host_ecdsa_key"));
        var again = await RefusedAsync("--ssh", "--name", "n", "--principals", "n", "--out", "n");
        Assert.Contains("already holds ssh_host_ecdsa_key, ssh_host_ecdsa_key.pub, ssh_host_ecdsa_key-cert.pub; add --force", again);
        Assert.Equal(key, await File.ReadAllTextAsync(_dir.File("n/ssh_host_ecdsa_key")));
        (await _cli.RunAsync("admin", "certs", "issue-host", "--ssh", "--name", "n", "--principals", "n", "--out", "n", "--force"))
            .EnsureSuccess("issue-host --force");
        Assert.NotEqual(key, await File.ReadAllTextAsync(_dir.File("n/ssh_host_ecdsa_key")));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(_dir.File("n/ssh_host_ecdsa_key")));
        Assert.Equal(3, Directory.GetFiles(_dir.File("n")).Length); // no temporary files left behind
    }

    [Fact]
    public async Task Ca_export_of_the_ssh_host_ca_gives_its_line_and_refuses_forms_that_do_not_fit()
    {
        var knownHosts = (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-host", "--hosts", "*.example.com,[*.example.com]:*"))
            .EnsureSuccess("ca export known_hosts").Stdout;
        var bare = (await _cli.RunAsync("admin", "ca", "export", "--kind", "ssh-host", "--format", "openssh")).EnsureSuccess("ca export openssh").Stdout;
        Assert.Equal($"@cert-authority *.example.com,[*.example.com]:* {bare}", knownHosts);
        await File.WriteAllTextAsync(_dir.File("host-ca.pub"), bare);
        Assert.Contains("gatehouse-admin-e2e-host-ca (ECDSA)", (await Peer.RunAsync("ssh-keygen", "-l", "-f", _dir.File("host-ca.pub"))).Stdout);

        async Task<string> RefusedAsync(params string[] args)
        {
            var result = await _cli.RunAsync(["admin", "ca", "export", .. args]);
            Assert.True(result.ExitCode == 1, result.Output);
            return result.Stderr;
        }
        Assert.Contains("use --format openssh or known_hosts", await RefusedAsync("--kind", "ssh-host", "--format", "pem"));
        Assert.Contains("--kind ssh-host", await RefusedAsync("--kind", "ssh-user", "--format", "known_hosts"));
        Assert.Contains("X.509 certificate", await RefusedAsync("--kind", "host", "--format", "known_hosts"));
        Assert.Contains("--hosts narrows", await RefusedAsync("--kind", "ssh-user", "--hosts", "*"));
        Assert.Contains("--hosts: host patterns 'a b' contain a space", await RefusedAsync("--kind", "ssh-host", "--hosts", "a b"));
    }
}
