using Gatehouse.Cluster;
using Gatehouse.Proxy.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Hosting;

/// <summary>The proxy server: one Kestrel TLS endpoint on <see cref="ProxyOptions.Listen"/> serving the web side.</summary>
internal sealed class ProxyHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HostCertificateProvider _certificates;

    private ProxyHost(WebApplication app, HostCertificateProvider certificates)
    {
        _app = app;
        _certificates = certificates;
    }

    public static async Task<ProxyHost> CreateAsync(ProxyOptions options, ClusterState cluster, Action<ILoggingBuilder>? logging,
        CancellationToken cancellationToken)
    {
        var certificates = new HostCertificateProvider(cluster.Issuer, options.PublicAddresses, cluster.Time);
        await certificates.InitializeAsync(cancellationToken);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.Listen, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificateSelector = (_, _) => certificates.Select(),
                ClientCertificateMode = ClientCertificateMode.NoCertificate,
            }));
        });
        builder.Services.AddSingleton(cluster);
        builder.Services.AddHostedService(_ => new TrustRefresher(cluster, options.TrustRefreshInterval));

        var app = builder.Build();
        PingEndpoint.Map(app, cluster);
        return new ProxyHost(app, certificates);
    }

    /// <summary>Starts listening; returns once the port accepts connections.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _app.StartAsync(cancellationToken);

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificates.Dispose();
    }
}

/// <summary>Re-reads revocations and trust files on an interval so admin changes (and other proxies') take effect.</summary>
internal sealed class TrustRefresher(ClusterState cluster, TimeSpan interval) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, cluster.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await cluster.ReloadTrustAsync(stoppingToken);
        }
        catch (OperationCanceledException) { }
    }
}
