using Gatehouse.Cluster;
using Gatehouse.Pki.Trust;

namespace Gatehouse.Proxy.Hosting;

/// <summary>
/// Keeps the proxy's trust view current: reloads as soon as the store's revision moves (a revocation here or on
/// another proxy; PostgreSQL announces it with NOTIFY) and at least every interval (trust files may change on disk).
/// </summary>
internal sealed class TrustRefresher(ClusterState cluster, TimeSpan interval, ILogger<TrustRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long known = -1;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                known = known < 0 ? await cluster.Store.GetRevisionAsync(stoppingToken) : await cluster.Store.WaitForChangeAsync(known, interval, stoppingToken);
                await cluster.ReloadTrustAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store may be briefly unreachable; keep the last good view and try again.
                ProxyLog.TrustRefreshFailed(logger, cluster.Store.Description, e.Message);
                await Task.Delay(interval, cluster.Time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        cluster.TrustChanged += LogRevocationChanges;
        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        cluster.TrustChanged -= LogRevocationChanges;
        return base.StopAsync(cancellationToken);
    }

    /// <summary>A CRL source that starts failing is logged as an error naming it, once; one that recovers, once.</summary>
    private void LogRevocationChanges(TrustStore before, TrustStore after)
    {
        foreach (var source in after.CrlSources)
        {
            var old = before.CrlSources.FirstOrDefault(s => s.Source == source.Source && s.Policy.Key == source.Policy.Key);
            if (source.Error is { } error && old?.Error != error)
                ProxyLog.RevocationSourceFailing(logger, error);
            else if (source.IsOk && old is { IsOk: false, Error: { } was } && !was.EndsWith(": not fetched yet", StringComparison.Ordinal))
                ProxyLog.RevocationSourceRecovered(logger, source.Source, source.Crl!.ThisUpdate, source.Crl.NextUpdate);
        }
    }
}
