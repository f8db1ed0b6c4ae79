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

    /// <summary>
    /// The text of <c>ssh-keygen -L</c>: "Name: value" lines indented by 8 spaces, list items
    /// (principals, options, extensions) by 16 under an empty-valued header.
    /// </summary>
    private sealed class SshKeygenListing
    {
        private readonly Dictionary<string, string> _fields = [];
        private readonly Dictionary<string, List<string>> _lists = [];

        public static SshKeygenListing Parse(string output)
        {
            var listing = new SshKeygenListing();
            List<string>? current = null;
            foreach (var line in output.Split('\n').Skip(1).Where(l => l.Trim().Length > 0))
            {
                if (line.StartsWith("                ", StringComparison.Ordinal))
                {
                    Assert.NotNull(current);
                    current.Add(line.Trim());
                    continue;
                }
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                Assert.True(colon > 0, $"unexpected ssh-keygen -L line '{line}'");
                var name = line[..colon].Trim();
                listing._fields[name] = line[(colon + 2)..].Trim();
                listing._lists[name] = current = [];
            }
            return listing;
        }

        public string Field(string name) =>
            _fields.TryGetValue(name, out var value) ? value : throw new Xunit.Sdk.XunitException($"ssh-keygen -L printed no '{name}'");

        public IReadOnlyList<string> List(string name)
        {
            Assert.Equal("", Field(name));
            return _lists[name];
        }
    }
}
