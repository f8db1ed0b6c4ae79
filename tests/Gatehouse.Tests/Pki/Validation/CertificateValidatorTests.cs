using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Cluster;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Validation;

public sealed class CertificateValidatorTests(ValidatorFixture pki) : IClassFixture<ValidatorFixture>, IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private async Task<ClusterState> ClusterAsync(params string[] crlFiles) =>
        await TestCluster.OpenAsync(_dir.Path, _time, new TrustOptions([pki.Bundle], crlFiles));

    private static CertificateValidationResult Validate(ClusterState cluster, ExternalPki.Issued leaf, params ExternalPki.Issued[] presented)
    {
        using var certificate = leaf.Load();
        var chain = presented.Select(p => p.Load()).ToList();
        try { return cluster.Validator.Validate(certificate, chain); }
        finally { foreach (var c in chain) c.Dispose(); }
    }

    private static void AssertRefused(CertificateValidationResult result, CertificateRefusal expected, string because)
    {
        Assert.False(result.IsValid, $"expected {expected}, but it was accepted");
        Assert.Equal(expected, result.Refusal);
        Assert.Contains(because, result.Message);
    }

    [Fact]
    public async Task Good_external_chain_is_accepted_with_or_without_the_intermediate_presented()
    {
        await using var cluster = await ClusterAsync(pki.GoodCrl);
        Assert.Empty(cluster.Trust.Errors);
        var presented = Validate(cluster, pki.Leaf, pki.Intermediate);
        Assert.True(presented.IsValid, presented.Message);
        Assert.False(presented.IssuedByGatehouse);
        Assert.Equal(3, presented.ChainLength);
        Assert.True(Validate(cluster, pki.Leaf).IsValid); // intermediate found in the bundle
        Assert.True(Validate(cluster, pki.Rsa3072, pki.Intermediate).IsValid);
        Assert.True(Validate(cluster, pki.DepthFourLeaf, pki.Second, pki.Intermediate).IsValid);
    }

    [Fact]
    public async Task Expired_and_not_yet_valid_follow_the_clock()
    {
        // A fake clock only moves forward: "not yet valid" is seen by a cluster whose clock is two days behind.
        var behind = new FakeTimeProvider(_time.GetUtcNow() - TimeSpan.FromDays(2));
        await using (var early = await TestCluster.OpenAsync(_dir.Path, behind, new TrustOptions([pki.Bundle], [])))
            AssertRefused(Validate(early, pki.Leaf, pki.Intermediate), CertificateRefusal.ClientCertNotYetValid, "CN=dana");
        await using var cluster = await ClusterAsync();
        Assert.True(Validate(cluster, pki.ShortLived, pki.Intermediate).IsValid);
        _time.Advance(TimeSpan.FromDays(2));
        AssertRefused(Validate(cluster, pki.ShortLived, pki.Intermediate), CertificateRefusal.ClientCertExpired, "CN=short");
    }

    [Fact]
    public async Task Certificate_without_client_auth_is_refused()
    {
        await using var cluster = await ClusterAsync();
        AssertRefused(Validate(cluster, pki.ServerOnly, pki.Intermediate), CertificateRefusal.ClientCertPurposeInvalid, "clientAuth");
        AssertRefused(Validate(cluster, pki.Intermediate), CertificateRefusal.ClientCertPurposeInvalid, "CA certificate");
    }

    [Fact]
    public async Task Version1_small_rsa_and_sha1_are_unsupported_types()
    {
        await using var cluster = await ClusterAsync();
        AssertRefused(Validate(cluster, pki.Version1, pki.Intermediate), CertificateRefusal.ClientCertTypeUnsupported, "X.509v1");
        AssertRefused(Validate(cluster, pki.Rsa1024, pki.Intermediate), CertificateRefusal.ClientCertTypeUnsupported, "1024 bits");
        AssertRefused(Validate(cluster, pki.Sha1, pki.Intermediate), CertificateRefusal.ClientCertTypeUnsupported, "SHA-256/384/512");
    }

    [Fact]
    public async Task Chain_of_five_exceeds_the_depth_limit()
    {
        await using var cluster = await ClusterAsync();
        AssertRefused(Validate(cluster, pki.DepthFiveLeaf, pki.Third, pki.Second), CertificateRefusal.ClientCertMaxChainDepthExceeded, "5 certificates");
        AssertRefused(Validate(cluster, pki.DepthFiveLeaf, pki.Third, pki.Second, pki.Intermediate, pki.Root),
            CertificateRefusal.ClientCertMaxChainDepthExceeded, "the client sent 5");
    }

    [Fact]
    public async Task Revoked_in_an_external_crl_is_a_crl_hit()
    {
        await using var cluster = await ClusterAsync(pki.GoodCrl);
        AssertRefused(Validate(cluster, pki.Revoked, pki.Intermediate), CertificateRefusal.ClientCertCrlHit, "was revoked by");
        Assert.True(Validate(cluster, pki.Leaf, pki.Intermediate).IsValid);
    }

    [Fact]
    public async Task Crl_with_a_bad_signature_is_rejected_reported_and_fails_closed()
    {
        await using var cluster = await ClusterAsync(pki.GoodCrl, pki.TamperedCrl);
        var error = Assert.Single(cluster.Trust.Errors);
        Assert.Contains("tampered.crl", error);
        Assert.Contains("rejected", error);
        AssertRefused(Validate(cluster, pki.RevokedUnderBadCrl, pki.OtherIssuing), CertificateRefusal.ClientCertRevocationUnknown,
            "revocation status unknown: CRL for CN=Corp Other Issuing, O=Corp could not be read: ");
        // Other issuers are unaffected.
        Assert.True(Validate(cluster, pki.Leaf, pki.Intermediate).IsValid);
    }

    [Fact]
    public async Task Unknown_issuer_is_untrusted()
    {
        await using var cluster = await ClusterAsync();
        AssertRefused(Validate(cluster, pki.Stranger), CertificateRefusal.ClientCertUntrusted, "does not chain to a trusted CA");
    }

    [Fact]
    public async Task Gatehouse_user_certificate_is_valid_until_revoked()
    {
        await using var cluster = await ClusterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = await cluster.Issuer.IssueUserAsync(new Gatehouse.Identity.Identity { User = "erin", Cluster = "" }, new PublicKey(key),
            TimeSpan.FromHours(1), CancellationToken.None);
        var result = cluster.Validator.Validate(certificate);
        Assert.True(result.IsValid, result.Message);
        Assert.True(result.IssuedByGatehouse);

        await cluster.Revocation.RevokeAsync(SerialNumbers.Of(certificate), X509RevocationReason.KeyCompromise, CancellationToken.None);
        Assert.True(cluster.Validator.Validate(certificate).IsValid); // the proxy sees it at its next trust refresh
        await cluster.ReloadTrustAsync(CancellationToken.None);
        AssertRefused(cluster.Validator.Validate(certificate), CertificateRefusal.ClientCertCrlHit, "was revoked");

        _time.Advance(TimeSpan.FromHours(2));
        using var fresh = await cluster.Issuer.IssueUserAsync(new Gatehouse.Identity.Identity { User = "erin", Cluster = "" }, new PublicKey(key),
            TimeSpan.FromHours(1), CancellationToken.None);
        Assert.True(cluster.Validator.Validate(fresh).IsValid);
    }

    [Fact]
    public async Task Host_certificate_is_not_a_client_identity()
    {
        await using var cluster = await ClusterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var host = await cluster.Issuer.IssueHostAsync(["localhost"], new PublicKey(key), TimeSpan.FromHours(1), CancellationToken.None);
        Assert.False(cluster.Validator.Validate(host).IsValid);
    }

    public void Dispose() => _dir.Dispose();
}
