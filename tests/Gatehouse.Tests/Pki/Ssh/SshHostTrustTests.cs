using Gatehouse.Pki;
using Gatehouse.Pki.Ssh;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Ssh;

/// <summary>Host trust (issue 13): host certificates from the cluster's SSH host CA, its known_hosts line, and the files
/// a node's sshd reads.</summary>
public sealed class SshHostTrustTests
{
    [Fact]
    public async Task A_host_certificate_is_signed_by_the_ssh_host_ca_and_recorded_under_it()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.Path);
        using var key = TestKeys.Create("P-256");

        var cert = await cluster.Issuer.IssueSshHostAsync("node1", ["node1"], key, TimeSpan.FromDays(30), CancellationToken.None);

        Assert.Equal(OpenSshCertificateType.Host, cert.Type);
        Assert.Equal(KeyBlob(cluster.Authorities.SshHost.PublicKeyLine), cert.SignatureKey);
        Assert.NotEqual(KeyBlob(cluster.Authorities.SshUser.PublicKeyLine), cert.SignatureKey);
        Assert.Equal(TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1), cert.ValidBefore - cert.ValidAfter);
        var issued = await cluster.Store.FindIssuedAsync(SerialNumbers.FromUInt64(cert.Serial), CancellationToken.None);
        Assert.NotNull(issued);
        Assert.Equal((Authorities.SshHostKind, "host-ssh", "node1"), (issued.Authority, issued.Usage, issued.Subject));
    }

    [Fact]
    public async Task Host_principals_are_names_or_addresses_and_each_bad_one_is_named()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.Path);
        using var key = TestKeys.Create("P-256");

        var bad = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await cluster.Issuer.IssueSshHostAsync("node1", ["node1", "bad name", "*.example.com", "fd00::1"], key, TimeSpan.FromDays(1), CancellationToken.None));
        Assert.StartsWith("'bad name', '*.example.com' are neither a DNS name nor an IP address", bad.Message);

        var none = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await cluster.Issuer.IssueSshHostAsync("node1", [], key, TimeSpan.FromDays(1), CancellationToken.None));
        Assert.Contains("at least one principal", none.Message);

        Assert.Null(CertificateIssuer.SshHostPrincipalsProblem(["node1", "node1.example.com", "10.0.0.5", "fd00::1"]));
    }

    [Fact]
    public void A_host_request_carries_no_extensions_and_refuses_any()
    {
        using var ca = TestKeys.Create("P-256");
        using var key = TestKeys.Create("P-256");
        var now = DateTimeOffset.UtcNow;
        var request = new OpenSshCertificateRequest(key, 1, OpenSshCertificateType.Host, "node1", ["node1"], now, now.AddHours(1));
        Assert.Empty(request.Extensions);
        Assert.Empty(new OpenSshCertificateSigner(ca).Sign(request).Extensions);

        var withExtension = Assert.Throws<ArgumentException>(() => new OpenSshCertificateSigner(ca).Sign(request with { Extensions = ["permit-pty"] }));
        Assert.Contains("Extensions are set on a host certificate", withExtension.Message);
        var withOption = Assert.Throws<ArgumentException>(() => new OpenSshCertificateSigner(ca).Sign(request with
        {
            CriticalOptions = new Dictionary<string, string> { ["force-command"] = "/bin/true" },
        }));
        Assert.Contains("CriticalOptions are set on a host certificate", withOption.Message);
    }

    [Fact]
    public async Task The_known_hosts_line_trusts_the_host_ca_for_the_given_patterns()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.Path);
        var host = cluster.Authorities.SshHost;

        Assert.Matches(@"^@cert-authority \* ecdsa-sha2-nistp256 AAAA[A-Za-z0-9+/=]+ gatehouse-test-cluster-host-ca$", host.KnownHostsLine());
        Assert.Equal($"@cert-authority *.example.com,10.0.0.*,!bastion.example.com {host.PublicKeyLine}",
            host.KnownHostsLine("*.example.com,10.0.0.*,!bastion.example.com"));
        Assert.Throws<InvalidOperationException>(() => cluster.Authorities.SshUser.KnownHostsLine());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a b", "space")]
    [InlineData("a\tb", "space")]
    [InlineData("a,,b", "empty pattern")]
    [InlineData("a,", "empty pattern")]
    [InlineData("!a,!b", "all negated")]
    public void Host_patterns_a_known_hosts_file_cannot_hold_are_refused(string patterns, string problem)
    {
        Assert.Contains(problem, OpenSshKnownHosts.ProblemWith(patterns));
        Assert.Throws<ArgumentException>(() => OpenSshKnownHosts.CertAuthorityLine(patterns, "ecdsa-sha2-nistp256 AAAA ca"));
    }

    [Fact]
    public void Host_key_files_are_written_together_owner_only_or_not_at_all()
    {
        using var dir = new TempDirectory();
        var files = new SshHostKeyFiles("-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n", "ecdsa-sha2-nistp256 AAAA node1",
            "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAA node1");

        var paths = files.WriteTo(dir.File("node1"));
        Assert.Equal(SshHostKeyFiles.Names, paths.Keys);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(paths[SshHostKeyFiles.PrivateKey]));
        Assert.Equal("ecdsa-sha2-nistp256-cert-v01@openssh.com AAAA node1\n", File.ReadAllText(paths[SshHostKeyFiles.Certificate]));
        Assert.Equal([$"HostKey {paths[SshHostKeyFiles.PrivateKey]}", $"HostCertificate {paths[SshHostKeyFiles.Certificate]}"],
            SshHostKeyFiles.SshdConfigLines(dir.File("node1")));

        // The certificate's place is taken: the key and public key are not left behind without it.
        Directory.CreateDirectory(dir.File("node2/" + SshHostKeyFiles.Certificate + "/in-the-way"));
        Assert.ThrowsAny<IOException>(() => files.WriteTo(dir.File("node2")));
        Assert.Equal([SshHostKeyFiles.Certificate], Directory.GetFileSystemEntries(dir.File("node2")).Select(Path.GetFileName));
    }

    private static byte[] KeyBlob(string publicKeyLine) => Convert.FromBase64String(publicKeyLine.Split(' ')[1]);
}
