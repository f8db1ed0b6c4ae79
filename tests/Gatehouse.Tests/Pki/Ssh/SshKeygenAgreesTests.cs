using Gatehouse.Pki;
using Gatehouse.Pki.Ssh;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Ssh;

/// <summary>OpenSSH's own ssh-keygen reads what we write (it also checks the CA signature while parsing).</summary>
public sealed class SshKeygenAgreesTests
{
    // ssh-keygen prints times in local time; pin it so the expected strings do not depend on the machine.
    private static readonly Dictionary<string, string> Utc = new() { ["TZ"] = "UTC" };

    [Theory]
    [InlineData("P-256", "P-256")]
    [InlineData("P-384", "RSA-3072")]
    [InlineData("RSA-3072", "P-256")]
    public async Task Keygen_lists_every_field_of_our_certificate(string caKind, string subjectKind)
    {
        using var ca = TestKeys.Create(caKind);
        using var subject = TestKeys.Create(subjectKind);
        using var dir = new TempDirectory();
        var validAfter = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);
        var cert = new OpenSshCertificateSigner(ca).Sign(new OpenSshCertificateRequest(subject, 1234567890123,
            OpenSshCertificateType.User, "alice via gatehouse", ["alice", "deploy"], validAfter, validAfter.AddHours(12)));
        var path = dir.File("id-cert.pub");
        await File.WriteAllTextAsync(path, cert.ToAuthorizedKeysLine("alice") + "\n");

        var result = (await Peer.RunAsync("ssh-keygen", ["-L", "-f", path], environment: Utc)).EnsureSuccess("ssh-keygen -L");
        var listing = SshKeygenListing.Parse(result.Stdout);

        Assert.Equal(TestKeys.CertificateType(subjectKind) + " user certificate", listing.Field("Type"));
        Assert.Equal($"{TestKeys.SshKeygenKind(subjectKind)}-CERT {OpenSshKeyFormat.Fingerprint(subject)}", listing.Field("Public key"));
        Assert.Equal($"{TestKeys.SshKeygenKind(caKind)} {OpenSshKeyFormat.Fingerprint(ca)} (using {TestKeys.SignatureAlgorithm(caKind)})",
            listing.Field("Signing CA"));
        Assert.Equal("\"alice via gatehouse\"", listing.Field("Key ID"));
        Assert.Equal("1234567890123", listing.Field("Serial"));
        Assert.Equal("from 2026-03-01T09:30:00 to 2026-03-01T21:30:00", listing.Field("Valid"));
        Assert.Equal(["alice", "deploy"], listing.List("Principals"));
        Assert.Equal("(none)", listing.Field("Critical Options"));
        Assert.Equal(OpenSshCertificateRequest.StandardUserExtensions, listing.List("Extensions"));
    }

    [Fact]
    public async Task Keygen_reads_critical_options_and_forever_validity()
    {
        using var ca = TestKeys.Create("P-256");
        using var subject = TestKeys.Create("P-256");
        using var dir = new TempDirectory();
        var validAfter = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);
        var cert = new OpenSshCertificateSigner(ca).Sign(new OpenSshCertificateRequest(subject, 1,
            OpenSshCertificateType.User, "robot", ["robot"], validAfter, DateTimeOffset.MaxValue)
        {
            CriticalOptions = new Dictionary<string, string> { ["source-address"] = "10.0.0.0/8", ["force-command"] = "/bin/true" },
            Extensions = [],
        });
        var path = dir.File("id-cert.pub");
        await File.WriteAllTextAsync(path, cert.ToAuthorizedKeysLine("robot") + "\n");

        var listing = SshKeygenListing.Parse(
            (await Peer.RunAsync("ssh-keygen", ["-L", "-f", path], environment: Utc)).EnsureSuccess("ssh-keygen -L").Stdout);

        Assert.Equal("after 2026-03-01T09:30:00", listing.Field("Valid"));
        Assert.Equal(["force-command /bin/true", "source-address 10.0.0.0/8"], listing.List("Critical Options"));
        Assert.Equal("(none)", listing.Field("Extensions"));
    }

    [Fact]
    public async Task Keygen_lists_the_clusters_host_certificate_as_a_host_certificate_for_its_names()
    {
        using var dir = new TempDirectory();
        var now = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);
        await using var cluster = await TestCluster.OpenAsync(dir.File("data"), new FakeTimeProvider(now));
        using var key = TestKeys.Create("P-256");
        var cert = await cluster.Issuer.IssueSshHostAsync("node1", ["node1", "Node1.Example.com", "10.0.0.5", "node1"], key,
            CertificateIssuer.DefaultSshHostTtl, CancellationToken.None);
        var path = dir.File("ssh_host_ecdsa_key-cert.pub");
        await File.WriteAllTextAsync(path, cert.ToAuthorizedKeysLine("node1@test-cluster") + "\n");

        var listing = SshKeygenListing.Parse(
            (await Peer.RunAsync("ssh-keygen", ["-L", "-f", path], environment: Utc)).EnsureSuccess("ssh-keygen -L").Stdout);

        Assert.Equal("ecdsa-sha2-nistp256-cert-v01@openssh.com host certificate", listing.Field("Type"));
        Assert.Equal($"ECDSA-CERT {OpenSshKeyFormat.Fingerprint(key)}", listing.Field("Public key"));
        Assert.StartsWith($"ECDSA {cluster.Authorities.SshHost.Fingerprint} ", listing.Field("Signing CA"));
        Assert.Equal("\"node1\"", listing.Field("Key ID"));
        // A minute of clock skew before now, a year after it.
        Assert.Equal("from 2026-03-01T09:29:00 to 2027-03-01T09:30:00", listing.Field("Valid"));
        Assert.Equal(["node1", "node1.example.com", "10.0.0.5"], listing.List("Principals")); // lower case, each once
        Assert.Equal("(none)", listing.Field("Critical Options"));
        Assert.Equal("(none)", listing.Field("Extensions"));
    }

    [Theory]
    [InlineData("P-256")]
    [InlineData("P-384")]
    [InlineData("P-521")]
    [InlineData("RSA-3072")]
    public async Task Keygen_fingerprint_of_our_public_key_line_matches(string kind)
    {
        using var key = TestKeys.Create(kind);
        using var dir = new TempDirectory();
        var path = dir.File("key.pub");
        await File.WriteAllTextAsync(path, OpenSshKeyFormat.PublicKeyLine(key, "gatehouse test") + "\n");

        var result = (await Peer.RunAsync("ssh-keygen", "-l", "-E", "sha256", "-f", path)).EnsureSuccess("ssh-keygen -l");

        // "<bits> SHA256:<hash> <comment> (<TYPE>)"
        var fields = result.Stdout.Trim().Split(' ');
        Assert.Equal(key.KeySize.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[0]);
        Assert.Equal(OpenSshKeyFormat.Fingerprint(key), fields[1]);
        Assert.EndsWith($"gatehouse test ({TestKeys.SshKeygenKind(kind)})", result.Stdout.Trim());
    }
}
