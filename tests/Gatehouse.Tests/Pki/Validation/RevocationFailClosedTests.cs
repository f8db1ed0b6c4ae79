using Microsoft.Extensions.Time.Testing;
using Gatehouse.Cluster;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Validation;

/// <summary>
/// Issue 16: a CRL that stops reading after start keeps its last good copy in force, a CA whose source never loaded
/// refuses its certificates, and a CRL past its nextUpdate is refused unless the policy says warn.
/// </summary>
public sealed class RevocationFailClosedTests(ValidatorFixture pki) : IClassFixture<ValidatorFixture>, IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private string CopyOfGoodCrl()
    {
        var path = _dir.File("issuing.crl");
        File.Copy(pki.GoodCrl, path, overwrite: true);
        return path;
    }

    private Task<ClusterState> ClusterAsync(TrustOptions trust) => TestCluster.OpenAsync(_dir.File("data"), _time, trust);

    private CertificateValidationResult Validate(ClusterState cluster, ExternalPki.Issued leaf)
    {
        using var certificate = leaf.Load();
        using var intermediate = pki.Intermediate.Load();
        return cluster.Validator.Validate(certificate, [intermediate]);
    }

    private RevocationPolicy Policy(params string[] crlFiles) => new("CN=Corp Issuing, O=Corp", "trust.revocation[0]", crlFiles, []);

    [Theory]
    [InlineData("truncated")]
    [InlineData("deleted")]
    [InlineData("bad signature")]
    [InlineData("garbage")]
    public async Task A_crl_file_that_breaks_after_start_keeps_its_last_good_copy(string damage)
    {
        var crl = CopyOfGoodCrl();
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], [crl]));
        Assert.Empty(cluster.Trust.Errors);
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked).Refusal);

        var good = await File.ReadAllBytesAsync(crl);
        switch (damage)
        {
            case "truncated": await File.WriteAllBytesAsync(crl, good[..(good.Length / 2)]); break;
            case "deleted": File.Delete(crl); break;
            case "bad signature": File.Copy(pki.TamperedCrl, crl, overwrite: true); break;
            default: await File.WriteAllTextAsync(crl, "not a CRL at all"); break;
        }
        var after = await cluster.ReloadTrustAsync(CancellationToken.None);

        var error = Assert.Single(after.Errors);
        Assert.Contains(crl, error);
        Assert.Contains("stays in force", error);
        var status = Assert.Single(after.CrlSources);
        Assert.False(status.IsOk);
        Assert.NotNull(status.Crl);
        var refused = Validate(cluster, pki.Revoked);
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, refused.Refusal);
        Assert.True(Validate(cluster, pki.Leaf).IsValid);

        // A good CRL put back is picked up, and the source is healthy again.
        await File.WriteAllBytesAsync(crl, good);
        File.SetLastWriteTimeUtc(crl, DateTime.UtcNow.AddSeconds(5));
        var healed = await cluster.ReloadTrustAsync(CancellationToken.None);
        Assert.Empty(healed.Errors);
        Assert.True(Assert.Single(healed.CrlSources).IsOk);
    }

    [Fact]
    public async Task An_older_crl_does_not_replace_a_newer_one()
    {
        var crl = _dir.File("numbered.crl");
        await pki.Pki.CrlToAsync(pki.Intermediate, crl, 5, 30, pki.Revoked);
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], [crl]));
        await pki.Pki.CrlToAsync(pki.Intermediate, crl, 4, 30); // older, and it no longer lists the revoked leaf
        File.SetLastWriteTimeUtc(crl, DateTime.UtcNow.AddSeconds(5));
        var after = await cluster.ReloadTrustAsync(CancellationToken.None);
        Assert.Contains("older than the one in force", Assert.Single(after.Errors));
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked).Refusal);
    }

    [Fact]
    public async Task A_ca_whose_source_never_loaded_refuses_its_certificates_with_a_sentence()
    {
        var missing = _dir.File("never-there.crl");
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], []) { Revocation = [Policy(missing)] });
        Assert.Contains(cluster.Trust.Errors, e => e.Contains(missing));
        var refused = Validate(cluster, pki.Leaf);
        Assert.Equal(CertificateRefusal.ClientCertRevocationUnknown, refused.Refusal);
        Assert.StartsWith($"revocation status unknown: CRL for CN=Corp Issuing, O=Corp could not be read: {missing}: cannot read the CRL", refused.Message);
        // Another CA of the bundle has no policy, so nothing changes for it.
        using var other = pki.RevokedUnderBadCrl.Load();
        using var otherIssuing = pki.OtherIssuing.Load();
        Assert.True(cluster.Validator.Validate(other, [otherIssuing]).IsValid);
    }

    [Fact]
    public async Task On_unknown_allow_accepts_with_a_warning()
    {
        var policy = Policy(_dir.File("never-there.crl")) with { OnUnknown = UnknownStatusAction.Allow };
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], []) { Revocation = [policy] });
        var result = Validate(cluster, pki.Leaf);
        Assert.True(result.IsValid, result.Message);
        Assert.Contains("revocation status unknown", result.Warning);
    }

    [Fact]
    public async Task A_ca_named_by_its_certificate_file_is_bound_too()
    {
        var policy = new RevocationPolicy(pki.Intermediate.CertPath, "trust.revocation[0]", [CopyOfGoodCrl()], []);
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], []) { Revocation = [policy] });
        Assert.Empty(cluster.Trust.Errors);
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked).Refusal);
        var good = Validate(cluster, pki.Leaf);
        Assert.True(good.IsValid, good.Message);
        Assert.NotNull(good.RecheckBy); // a verdict never outlives the CRL it was built on
    }

    [Fact]
    public async Task A_policy_naming_no_trusted_ca_is_a_configuration_error()
    {
        var policy = new RevocationPolicy("CN=Nobody, O=Corp", "trust.revocation[0]", [CopyOfGoodCrl()], []);
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], []) { Revocation = [policy] });
        Assert.Contains(cluster.Trust.Errors, e => e.StartsWith("trust.revocation[0].ca: CN=Nobody, O=Corp is not one of the trusted CAs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stale_crl_is_refused_by_default_naming_the_crl_and_its_next_update()
    {
        var crl = CopyOfGoodCrl();
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], [crl]));
        var fresh = Validate(cluster, pki.Leaf);
        Assert.True(fresh.IsValid, fresh.Message);

        _time.Advance(TimeSpan.FromDays(31)); // the fixture's CRLs are good for 30 days; the grace is an hour
        var stale = Validate(cluster, pki.Leaf);
        Assert.Equal(CertificateRefusal.ClientCertRevocationStale, stale.Refusal);
        Assert.Contains($"the CRL for CN=Corp Issuing, O=Corp from {crl} is stale: its nextUpdate was ", stale.Message);
        Assert.Equal(fresh.RecheckBy, cluster.Trust.RevocationByIssuer.Values.Single(v => v.Crl is not null).FreshUntil);
    }

    [Fact]
    public async Task On_stale_warn_accepts_with_a_warning_but_still_refuses_the_revoked()
    {
        var policy = Policy(CopyOfGoodCrl()) with { OnStale = StaleCrlAction.Warn, StaleGrace = TimeSpan.Zero };
        await using var cluster = await ClusterAsync(new TrustOptions([pki.Bundle], []) { Revocation = [policy] });
        _time.Advance(TimeSpan.FromDays(31));
        var warned = Validate(cluster, pki.Leaf);
        Assert.True(warned.IsValid, warned.Message);
        Assert.Contains("is stale", warned.Warning);
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked).Refusal);
    }

    public void Dispose() => _dir.Dispose();
}
