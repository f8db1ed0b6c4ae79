using Gatehouse.Cluster;
using Gatehouse.Pki.Revocation;

namespace Gatehouse.Proxy.Hosting;

/// <summary>
/// Fetches the CRLs of <c>trust.revocation[*].crl_urls</c> in the background (issue 16), never in a handshake: the
/// first round right at start, then as <see cref="CrlUrlRefresh"/> schedules. What fails is logged by the trust view's
/// change (<see cref="TrustRefresher"/>), naming the URL.
/// </summary>
internal sealed class CrlUrlRefresher(ClusterState cluster, ILogger<CrlUrlRefresher> logger) : BackgroundService
{
    private static readonly TimeSpan LongestSleep = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!cluster.TrustOptions.Revocation.Any(p => p.CrlUrls.Count > 0)) return;
        using var http = RevocationHttp.CreateClient();
        var refresh = new CrlUrlRefresh(cluster, new CrlFetcher(http, CrlFetchOptions.Default));
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset next;
            try
            {
                next = await refresh.RunDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store (for the reload) may be briefly unreachable; the cached CRLs stay in force.
                ProxyLog.TrustRefreshFailed(logger, cluster.Store.Description, e.Message);
                next = cluster.Time.GetUtcNow() + TimeSpan.FromSeconds(30);
            }
            var sleep = next - cluster.Time.GetUtcNow();
            if (sleep > LongestSleep) sleep = LongestSleep;
            if (sleep < TimeSpan.FromSeconds(1)) sleep = TimeSpan.FromSeconds(1);
            try { await Task.Delay(sleep, cluster.Time, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
