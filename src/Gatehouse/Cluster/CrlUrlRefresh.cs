using Gatehouse.Pki.Revocation;

namespace Gatehouse.Cluster;

/// <summary>
/// Keeps the disk copies of the CRLs named by <c>trust.revocation[*].crl_urls</c> current (issue 16): each URL is fetched
/// when due — every policy's refresh interval, sooner when its CRL reaches nextUpdate, and after a failure again in
/// 30 s, doubling up to the interval. When a copy changed or a fetch started or stopped failing, the trust view is
/// reloaded at once. The caller (the proxy's background service) sleeps until the returned time.
/// </summary>
internal sealed class CrlUrlRefresh(ClusterState cluster, CrlFetcher fetcher)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30);

    private readonly Dictionary<(string Policy, Uri Url), (DateTimeOffset Due, int Failures, bool Failing)> _schedule = [];

    /// <summary>Fetches every URL that is due now; returns when the next one is due.</summary>
    public async Task<DateTimeOffset> RunDueAsync(CancellationToken cancellationToken)
    {
        var options = cluster.TrustOptions;
        var now = cluster.Time.GetUtcNow();
        var next = now + RevocationPolicy.DefaultRefreshInterval;
        if (options.CrlCacheDirectory is not { } cache) return next;
        var reload = false;
        foreach (var policy in options.Revocation)
            foreach (var url in policy.CrlUrls)
            {
                var key = (policy.Key, url);
                _schedule.TryGetValue(key, out var entry);
                if (entry.Due > now)
                {
                    next = Min(next, entry.Due);
                    continue;
                }
                var issuers = cluster.Trust.RevocationByIssuer.Values.Where(v => v.Policy.Key == policy.Key).Select(v => v.Certificate).ToList();
                if (issuers.Count == 0)
                {
                    // The policy names no trusted CA (reported as a configuration error); look again later.
                    _schedule[key] = (now + policy.RefreshInterval, 0, false);
                    continue;
                }
                var result = await fetcher.FetchAsync(url, cache, issuers, cancellationToken);
                reload |= result.Changed || result.IsOk == entry.Failing || entry == default;
                var due = result.IsOk ? now + Until(policy, now) : now + Backoff(entry.Failures, policy.RefreshInterval);
                _schedule[key] = (due, result.IsOk ? 0 : entry.Failures + 1, !result.IsOk);
                next = Min(next, due);
            }
        if (reload) await cluster.ReloadTrustAsync(cancellationToken);
        return next;
    }

    /// <summary>The refresh interval, or less when the CA's CRL in force runs out before that.</summary>
    private TimeSpan Until(RevocationPolicy policy, DateTimeOffset now)
    {
        var interval = policy.RefreshInterval;
        foreach (var view in cluster.Trust.RevocationByIssuer.Values)
            if (view.Policy.Key == policy.Key && view.Crl?.NextUpdate is { } nextUpdate && nextUpdate > now && nextUpdate - now < interval)
                interval = nextUpdate - now + TimeSpan.FromSeconds(1);
        return interval;
    }

    private static TimeSpan Backoff(int failures, TimeSpan ceiling)
    {
        var delay = FirstRetry * Math.Pow(2, Math.Min(failures, 10));
        return delay < ceiling ? delay : ceiling;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
