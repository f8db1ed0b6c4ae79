using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Validation;

/// <summary>One openssl-made company PKI shared by the validator tests (making it takes a few seconds).</summary>
public sealed class ValidatorFixture : IAsyncLifetime
{
    internal ExternalPki Pki { get; } = new();
    internal ExternalPki.Issued Root { get; private set; } = null!;
    internal ExternalPki.Issued Intermediate { get; private set; } = null!;
    internal ExternalPki.Issued Leaf { get; private set; } = null!;
    internal ExternalPki.Issued ShortLived { get; private set; } = null!;
    internal ExternalPki.Issued ServerOnly { get; private set; } = null!;
    internal ExternalPki.Issued Version1 { get; private set; } = null!;
    internal ExternalPki.Issued Rsa1024 { get; private set; } = null!;
    internal ExternalPki.Issued Sha1 { get; private set; } = null!;
    internal ExternalPki.Issued Rsa3072 { get; private set; } = null!;
    internal ExternalPki.Issued Second { get; private set; } = null!;
    internal ExternalPki.Issued Third { get; private set; } = null!;
    internal ExternalPki.Issued DepthFourLeaf { get; private set; } = null!;
    internal ExternalPki.Issued DepthFiveLeaf { get; private set; } = null!;
    internal ExternalPki.Issued Revoked { get; private set; } = null!;
    internal ExternalPki.Issued OtherIssuing { get; private set; } = null!;
    internal ExternalPki.Issued RevokedUnderBadCrl { get; private set; } = null!;
    internal ExternalPki.Issued Stranger { get; private set; } = null!;
    internal string Bundle { get; private set; } = "";
    internal string GoodCrl { get; private set; } = "";
    internal string TamperedCrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Root = await Pki.RootAsync("Corp Root");
        Intermediate = await Pki.IssueAsync(Root, "Corp Issuing", ExternalPki.CaExtensions, days: 1000);
        Leaf = await Pki.IssueAsync(Intermediate, "dana", ExternalPki.ClientExtensions);
        ShortLived = await Pki.IssueAsync(Intermediate, "short", ExternalPki.ClientExtensions, days: 1);
        ServerOnly = await Pki.IssueAsync(Intermediate, "server-only", ExternalPki.ServerOnlyExtensions);
        Version1 = await Pki.IssueAsync(Intermediate, "version-one", extensions: null);
        Rsa1024 = await Pki.IssueAsync(Intermediate, "rsa-1024", ExternalPki.ClientExtensions, key: "rsa:1024");
        Sha1 = await Pki.IssueAsync(Intermediate, "sha-1", ExternalPki.ClientExtensions, digest: "-sha1");
        Rsa3072 = await Pki.IssueAsync(Intermediate, "rsa-3072", ExternalPki.ClientExtensions, key: "rsa:3072");
        Second = await Pki.IssueAsync(Intermediate, "Corp Second", ExternalPki.CaExtensions, days: 900);
        DepthFourLeaf = await Pki.IssueAsync(Second, "depth-four", ExternalPki.ClientExtensions);
        Third = await Pki.IssueAsync(Second, "Corp Third", ExternalPki.CaExtensions, days: 800);
        DepthFiveLeaf = await Pki.IssueAsync(Third, "depth-five", ExternalPki.ClientExtensions);
        Revoked = await Pki.IssueAsync(Intermediate, "revoked", ExternalPki.ClientExtensions);
        GoodCrl = await Pki.CrlAsync(Intermediate, Revoked);

        OtherIssuing = await Pki.IssueAsync(Root, "Corp Other Issuing", ExternalPki.CaExtensions, days: 1000);
        RevokedUnderBadCrl = await Pki.IssueAsync(OtherIssuing, "revoked-bad-crl", ExternalPki.ClientExtensions);
        var crl = await Pki.CrlAsync(OtherIssuing, RevokedUnderBadCrl);
        var der = Convert.FromBase64String(string.Concat(File.ReadAllLines(crl).Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^5] ^= 0x01; // inside the signature value
        TamperedCrl = Pki.File("tampered.crl");
        await File.WriteAllBytesAsync(TamperedCrl, der);

        var strangerRoot = await Pki.RootAsync("Stranger Root");
        Stranger = await Pki.IssueAsync(strangerRoot, "mallory", ExternalPki.ClientExtensions);

        Bundle = Pki.File("corp-bundle.pem");
        await File.WriteAllTextAsync(Bundle, string.Concat(
            new[] { Root, Intermediate, OtherIssuing }.Select(c => File.ReadAllText(c.CertPath))));
    }

    public Task DisposeAsync()
    {
        Pki.Dispose();
        return Task.CompletedTask;
    }
}
