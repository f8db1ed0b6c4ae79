using Gatehouse.Cluster;
using Gatehouse.Pki.Ocsp;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Ocsp;

/// <summary>Issue 16: OCSP against the real <c>openssl ocsp</c> responder — good, revoked, unknown, down, and signed by the wrong key.</summary>
public sealed class OcspResponderTests(OcspFixture pki) : IClassFixture<OcspFixture>, IDisposable
{
    private readonly TempDirectory _dir = new();

    private static RevocationPolicy Policy(OcspMode mode, Uri? url = null, UnknownStatusAction onUnknown = UnknownStatusAction.Refuse) =>
        new("CN=Ocsp Issuing, O=Corp", "trust.revocation[0]", [], []) { Ocsp = mode, OcspUrl = url, OnUnknown = onUnknown };

    private Task<ClusterState> ClusterAsync(RevocationPolicy policy) =>
        TestCluster.OpenAsync(_dir.File("data"), TimeProvider.System, new TrustOptions([pki.Bundle], []) { Revocation = [policy] });

    private async Task<CertificateValidationResult> ValidateAsync(ClusterState cluster, ExternalPki.Issued leaf)
    {
        using var certificate = leaf.Load();
        using var issuing = pki.Issuing.Load();
        await cluster.Validator.PrefetchRevocationAsync(certificate, [issuing], CancellationToken.None);
        return cluster.Validator.Validate(certificate, [issuing]);
    }

    [Fact]
    public async Task The_responder_named_in_the_certificate_decides_good_and_revoked()
    {
        await using var cluster = await ClusterAsync(Policy(OcspMode.Auto));
        var good = await ValidateAsync(cluster, pki.Good);
        Assert.True(good.IsValid, good.Message);
        Assert.NotNull(good.RecheckBy); // bounded by the response's nextUpdate (-nmin 60)
        Assert.True(good.RecheckBy < DateTimeOffset.UtcNow.AddHours(2));

        var revoked = await ValidateAsync(cluster, pki.Revoked);
        Assert.Equal(CertificateRefusal.ClientCertOcspRevoked, revoked.Refusal);
        Assert.Contains($"says the OCSP responder {pki.Responder}", revoked.Message);
        Assert.Equal(2, cluster.Ocsp.Count); // remembered: the next validation asks nobody
    }

    [Fact]
    public async Task Get_and_post_both_reach_the_responder()
    {
        using var http = new HttpClient();
        using var leaf = pki.Revoked.Load();
        using var issuing = pki.Issuing.Load();
        foreach (var post in new[] { false, true })
        {
            var service = new OcspService(http, TimeProvider.System, OcspOptions.Default) { AlwaysPost = post };
            var check = await service.EnsureAsync(leaf, issuing, pki.Responder, CancellationToken.None);
            Assert.True(check.Answer is { Status: OcspCertStatus.Revoked }, check.Error);
        }
    }

    [Fact]
    public async Task A_certificate_the_responder_does_not_know_is_unknown_and_on_unknown_decides()
    {
        await using (var refuse = await ClusterAsync(Policy(OcspMode.Auto)))
        {
            var refused = await ValidateAsync(refuse, pki.NotInIndex);
            Assert.Equal(CertificateRefusal.ClientCertRevocationUnknown, refused.Refusal);
            Assert.Contains("does not know this certificate", refused.Message);
        }
        await using var allow = await ClusterAsync(Policy(OcspMode.Auto, onUnknown: UnknownStatusAction.Allow));
        var allowed = await ValidateAsync(allow, pki.NotInIndex);
        Assert.True(allowed.IsValid, allowed.Message);
        Assert.Contains("revocation status unknown", allowed.Warning);
    }

    [Fact]
    public async Task A_responder_that_is_down_is_unknown_and_on_unknown_decides()
    {
        var nobody = new Uri($"http://127.0.0.1:{Peer.FreePort()}/");
        await using (var refuse = await ClusterAsync(Policy(OcspMode.Url, nobody)))
        {
            var refused = await ValidateAsync(refuse, pki.Good);
            Assert.Equal(CertificateRefusal.ClientCertRevocationUnknown, refused.Refusal);
            Assert.Contains("could not be reached", refused.Message);
        }
        await using var allow = await ClusterAsync(Policy(OcspMode.Url, nobody, UnknownStatusAction.Allow));
        Assert.True((await ValidateAsync(allow, pki.Good)).IsValid);
        // Still, a revoked certificate is refused by what the responder said before? No: it was never asked, so allow lets it by —
        // which is exactly what on_unknown: allow means, and why refuse is the default.
    }

    [Fact]
    public async Task A_response_signed_by_a_key_the_ca_never_certified_is_refused()
    {
        await using var cluster = await ClusterAsync(Policy(OcspMode.Url, new Uri($"http://127.0.0.1:{pki.RoguePort}")));
        var refused = await ValidateAsync(cluster, pki.Good);
        Assert.Equal(CertificateRefusal.ClientCertRevocationUnknown, refused.Refusal);
        Assert.Contains("was not issued by CN=Ocsp Issuing, O=Corp", refused.Message);
    }

    [Fact]
    public async Task A_response_signed_by_the_ca_itself_is_accepted()
    {
        await using var cluster = await ClusterAsync(Policy(OcspMode.Url, new Uri($"http://127.0.0.1:{pki.CaSignedPort}")));
        Assert.True((await ValidateAsync(cluster, pki.Good)).IsValid);
        Assert.Equal(CertificateRefusal.ClientCertOcspRevoked, (await ValidateAsync(cluster, pki.Revoked)).Refusal);
    }

    public void Dispose() => _dir.Dispose();
}
