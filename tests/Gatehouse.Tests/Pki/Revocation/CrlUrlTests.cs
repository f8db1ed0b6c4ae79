using Gatehouse.Cluster;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;
using Gatehouse.Tests.Pki.Validation;

namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>
/// Issue 16: CRLs from URLs, served by a real nginx: fetched in the background, signature-checked, kept on disk so a
/// restart without the server still has them, and the last good copy kept when the server starts sending garbage.
/// </summary>
public sealed class CrlUrlTests(ValidatorFixture pki) : IClassFixture<ValidatorFixture>, IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private NginxPeer? _nginx;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = Peer.FreePort();
        _nginx = await NginxPeer.StartAsync(peer =>
        {
            Directory.CreateDirectory(peer.File("www"));
            File.Copy(pki.GoodCrl, peer.File("www/issuing.crl"));
            return Task.FromResult($"server {{ listen 127.0.0.1:{_port}; root {peer.File("www")}; }}");
        }, _port);
    }

    private Uri Url => new($"http://127.0.0.1:{_port}/issuing.crl");

    private TrustOptions Trust => new([pki.Bundle], [])
    {
        Revocation = [new RevocationPolicy("CN=Corp Issuing, O=Corp", "trust.revocation[0]", [], [Url])],
    };

    private Task<ClusterState> ClusterAsync() => TestCluster.OpenAsync(_dir.File("data"), TimeProvider.System, Trust);

    private static CertificateValidationResult Validate(ClusterState cluster, ExternalPki.Issued leaf, ExternalPki.Issued issuer)
    {
        using var certificate = leaf.Load();
        using var intermediate = issuer.Load();
        return cluster.Validator.Validate(certificate, [intermediate]);
    }

    private static CrlUrlRefresh Refresh(ClusterState cluster, HttpClient http) => new(cluster, new CrlFetcher(http, CrlFetchOptions.Default));

    [Fact]
    public async Task A_revoked_leaf_is_refused_through_a_crl_url_and_the_copy_outlives_the_server()
    {
        using var http = new HttpClient();
        await using (var cluster = await ClusterAsync())
        {
            // Not fetched yet: fail closed, saying so.
            var before = Validate(cluster, pki.Leaf, pki.Intermediate);
            Assert.Equal(CertificateRefusal.ClientCertRevocationUnknown, before.Refusal);
            Assert.Contains($"{Url}: not fetched yet", before.Message);
            Assert.Empty(cluster.Trust.Errors); // a URL never stops a start

            await Refresh(cluster, http).RunDueAsync(CancellationToken.None);
            Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked, pki.Intermediate).Refusal);
            var good = Validate(cluster, pki.Leaf, pki.Intermediate);
            Assert.True(good.IsValid, good.Message);
            Assert.True(Assert.Single(cluster.Trust.CrlSources).IsOk);
        }

        // The server goes away; a restart still has the copy on disk, and says the fetch fails.
        await _nginx!.DisposeAsync();
        _nginx = null;
        await using (var restarted = await ClusterAsync())
        {
            await Refresh(restarted, http).RunDueAsync(CancellationToken.None);
            Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(restarted, pki.Revoked, pki.Intermediate).Refusal);
            Assert.True(Validate(restarted, pki.Leaf, pki.Intermediate).IsValid);
            var source = Assert.Single(restarted.Trust.CrlSources);
            Assert.NotNull(source.Crl);
            Assert.Contains("the fetch failed", source.Error);
            Assert.Contains("stays in force", source.Error);
        }
    }

    [Fact]
    public async Task Garbage_or_a_wrong_signature_from_the_url_keeps_the_last_good_copy()
    {
        using var http = new HttpClient();
        await using var cluster = await ClusterAsync();
        var refresh = Refresh(cluster, http);
        await refresh.RunDueAsync(CancellationToken.None);
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked, pki.Intermediate).Refusal);

        var fetcher = new CrlFetcher(http, CrlFetchOptions.Default);
        var issuers = cluster.Trust.RevocationByIssuer.Values.Select(v => v.Certificate).ToList();
        var der = Convert.FromBase64String(string.Concat(File.ReadAllLines(pki.GoodCrl).Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^5] ^= 0x01; // inside the signature value
        foreach (var (content, expected) in new[]
                 {
                     (der, "the CRL was rejected"),
                     (File.ReadAllBytes(pki.TamperedCrl), "is not the CA this URL is configured for"),
                     ("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"u8.ToArray(), "not a usable CRL"),
                 })
        {
            await File.WriteAllBytesAsync(_nginx!.File("www/issuing.crl"), content);
            var result = await fetcher.FetchAsync(Url, cluster.TrustOptions.CrlCacheDirectory!, issuers, CancellationToken.None);
            Assert.Contains(expected, result.Error);
            var trust = await cluster.ReloadTrustAsync(CancellationToken.None);
            Assert.Contains(expected, Assert.Single(trust.CrlSources).Error);
            Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked, pki.Intermediate).Refusal);
        }

        // A 404 too.
        File.Delete(_nginx!.File("www/issuing.crl"));
        var missing = await fetcher.FetchAsync(Url, cluster.TrustOptions.CrlCacheDirectory!, issuers, CancellationToken.None);
        Assert.Contains("404", missing.Error);
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, Validate(cluster, pki.Revoked, pki.Intermediate).Refusal);
    }

    [Fact]
    public async Task A_second_fetch_is_conditional_and_changes_nothing()
    {
        using var http = new HttpClient();
        await using var cluster = await ClusterAsync();
        var fetcher = new CrlFetcher(http, CrlFetchOptions.Default);
        var issuers = cluster.Trust.RevocationByIssuer.Values.Select(v => v.Certificate).ToList();
        var cache = cluster.TrustOptions.CrlCacheDirectory!;
        Assert.True((await fetcher.FetchAsync(Url, cache, issuers, CancellationToken.None)).Changed);
        Assert.StartsWith("\"", File.ReadAllText(CrlCache.ValidatorsPath(cache, Url))); // nginx's ETag, sent back next time
        var again = await fetcher.FetchAsync(Url, cache, issuers, CancellationToken.None);
        Assert.True(again.IsOk, again.Error);
        Assert.False(again.Changed);
    }

    [Fact]
    public async Task The_distribution_point_a_certificate_names_is_fetched_before_it_is_judged()
    {
        var cdp = $"\ncrlDistributionPoints=URI:http://127.0.0.1:{_port}/cdp.crl";
        var named = await pki.Pki.IssueAsync(pki.Intermediate, $"cdp-good-{Guid.NewGuid():N}"[..16], ExternalPki.ClientExtensions + cdp);
        var revoked = await pki.Pki.IssueAsync(pki.Intermediate, $"cdp-revoked-{Guid.NewGuid():N}"[..19], ExternalPki.ClientExtensions + cdp);
        await pki.Pki.CrlToAsync(pki.Intermediate, _nginx!.File("www/cdp.crl"), 9, 30, revoked);
        var policy = new RevocationPolicy("CN=Corp Issuing, O=Corp", "trust.revocation[0]", [], []) { UseDistributionPoints = true };
        await using var cluster = await TestCluster.OpenAsync(_dir.File("data"), TimeProvider.System, new TrustOptions([pki.Bundle], []) { Revocation = [policy] });

        async Task<CertificateValidationResult> JudgeAsync(ExternalPki.Issued leaf)
        {
            using var certificate = leaf.Load();
            using var intermediate = pki.Intermediate.Load();
            await cluster.Validator.PrefetchRevocationAsync(certificate, [intermediate], CancellationToken.None);
            return cluster.Validator.Validate(certificate, [intermediate]);
        }

        var good = await JudgeAsync(named);
        Assert.True(good.IsValid, good.Message);
        Assert.Equal(CertificateRefusal.ClientCertCrlHit, (await JudgeAsync(revoked)).Refusal);
        Assert.Contains(cluster.TrustOptions.Revocation[0].CrlUrls, u => u.AbsolutePath == "/cdp.crl"); // refreshed from now on
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null) await _nginx.DisposeAsync();
        _dir.Dispose();
    }
}
