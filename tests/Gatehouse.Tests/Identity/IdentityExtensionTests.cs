using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Identity;
using Gatehouse.Testing;
using Gatehouse.Tests.Pki;

namespace Gatehouse.Tests.Identity;

public sealed class IdentityExtensionTests
{
    [Theory]
    [InlineData("alice")]
    [InlineData("Zoë Ångström-山田")]
    [InlineData("bob@example.com")]
    public async Task Identity_round_trips_through_a_user_certificate(string user)
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.Path, cluster: "prod-éu");
        var identity = new Gatehouse.Identity.Identity
        {
            User = user,
            Cluster = "ignored: the issuer sets it",
            Roles = ["dev", "auditor"],
            Traits = new Dictionary<string, IReadOnlyList<string>> { ["team"] = ["plateforme", "données 日本"], ["logins"] = ["ubuntu"] },
            Logins = ["ubuntu", "root"],
            KubeUsers = ["alice@corp"],
            KubeGroups = ["system:masters", "developers"],
            DbUsers = ["app"],
            DbNames = ["orders", "*"],
            PinnedIp = "10.1.2.3",
            IssuedVia = "login",
        };
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = await cluster.Issuer.IssueUserAsync(identity, new PublicKey(key), TimeSpan.FromHours(1), CancellationToken.None);

        // Through DER and back, as a peer would receive it.
        using var received = X509CertificateLoader.LoadCertificate(certificate.RawData);
        Assert.True(IdentityExtension.TryDecode(received, out var decoded, out var error), error);
        Assert.Equal(user, decoded.User);
        Assert.Equal("prod-éu", decoded.Cluster);
        Assert.Equal(identity.Roles, decoded.Roles);
        Assert.Equal(identity.Logins, decoded.Logins);
        Assert.Equal(identity.KubeUsers, decoded.KubeUsers);
        Assert.Equal(identity.KubeGroups, decoded.KubeGroups);
        Assert.Equal(identity.DbUsers, decoded.DbUsers);
        Assert.Equal(identity.DbNames, decoded.DbNames);
        Assert.Equal(identity.PinnedIp, decoded.PinnedIp);
        Assert.Equal("login", decoded.IssuedVia);
        Assert.Equal(identity.Traits.Keys.Order(), decoded.Traits.Keys.Order());
        foreach (var (name, values) in identity.Traits) Assert.Equal(values, decoded.Traits[name]);
        Assert.InRange(decoded.IssuedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

        var extension = received.Extensions[IdentityExtension.Oid];
        Assert.NotNull(extension);
        Assert.False(extension.Critical);
        // The JSON is stored as UTF-8 text (a DER UTF8String), not escaped.
        Assert.True(extension.RawData.AsSpan().IndexOf("données 日本"u8) >= 0);
    }

    [Fact]
    public void Certificate_without_the_extension_is_a_bare_identity_and_garbage_is_an_error()
    {
        using var key = ECDsa.Create();
        var request = new CertificateRequest("CN=carol, O=corp", key, HashAlgorithmName.SHA256);
        using (var bare = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1)))
        {
            Assert.True(IdentityExtension.TryDecode(bare, out var identity, out _));
            Assert.Equal("carol", identity.User);
            Assert.Equal("corp", identity.Cluster);
            Assert.Empty(identity.Roles);
        }
        request.CertificateExtensions.Add(new X509Extension(IdentityExtension.Oid, [0x0C, 0x03, (byte)'{', (byte)'x', (byte)'}'], false));
        using var broken = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1));
        Assert.False(IdentityExtension.TryDecode(broken, out _, out var error));
        Assert.Contains("malformed", error);
    }
}
