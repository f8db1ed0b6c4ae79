using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Access;
using Gatehouse.Access.Roles;
using Gatehouse.Access.Login;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using Gatehouse.Pki.Trust;
using Gatehouse.Proxy.Apps;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Kube;
using Gatehouse.Proxy.Resources;
using Gatehouse.Proxy.Routing;
using Gatehouse.Proxy.Services;
using Gatehouse.Proxy.Services.Ssh;
using Gatehouse.Proxy.Services.MySql;
using Gatehouse.Proxy.Services.Postgres;
using Gatehouse.Proxy.Services.Databases;
using Gatehouse.Proxy.Services.Tcp;
using Gatehouse.Proxy.Sessions;
using Gatehouse.Proxy.Tunnel;
using Gatehouse.Proxy.Web;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Proxy.Hosting;

/// <summary>The proxy server: one Kestrel TLS endpoint on <see cref="ProxyOptions.Listen"/> serving the web side, and
/// optionally a plain-HTTP one on <see cref="ProxyOptions.HttpListen"/> for balancers that speak HTTP to targets.</summary>
internal sealed class ProxyHost : IAsyncDisposable
{
    /// <summary>The longest HTTP request line the TLS port reads (kubectl exec commands travel in the query string).</summary>
    internal const int MaxRequestLineBytes = 64 * 1024;

    private readonly WebApplication _app;
    private readonly HostCertificateProvider _certificates;

    private ProxyHost(WebApplication app, HostCertificateProvider certificates)
    {
        _app = app;
        _certificates = certificates;
    }

    public static async Task<ProxyHost> CreateAsync(ProxyOptions options, ClusterState cluster, TimeSpan userCertificateTtl,
        Action<ILoggingBuilder>? logging, CancellationToken cancellationToken)
    {
        var certificates = new HostCertificateProvider(cluster.Issuer, options.PublicAddresses,
            [.. options.HttpApps.Select(a => a.PublicHost).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)], cluster.Time);
        await certificates.InitializeAsync(cancellationToken);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // kubectl exec and attach carry the command in the query string; the API server reads request lines up to
            // its 1 MB header limit, Kestrel's default stops at 8 KiB. 64 KiB lets long commands through, still bounded.
            kestrel.Limits.MaxRequestLineSize = MaxRequestLineBytes;
            kestrel.Listen(options.Listen, listen =>
            {
                // First the ClientHello router: gatehouse-* protocols leave here; the rest goes on to HTTPS below.
                listen.Use(next => connection => listen.ApplicationServices.GetRequiredService<ConnectionRouter>().OnConnectionAsync(connection, next));
                listen.UseHttps(HttpsOptions(certificates));
            });
            // Tunnelled connections for the web side (apps, Kubernetes) re-enter here, served like the TLS port's.
            kestrel.Listen(InnerEndPoint.Instance, listen => listen.UseHttps(HttpsOptions(certificates)));
            if (options.HttpListen is { } httpListen)
                kestrel.Listen(httpListen, listen =>
                {
                    // Plain HTTP from a balancer (issue 7): no TLS and no ClientHello router; only trusted peers get in.
                    listen.Use(next => connection => listen.ApplicationServices.GetRequiredService<TrustedPeerGate>().OnConnectionAsync(connection, next));
                });
        });
        builder.Services.AddSingleton(cluster);
        builder.Services.AddSingleton(cluster.Time);
        builder.Services.AddSingleton(cluster.Audit);
        builder.Services.AddSingleton<AccessAudit>();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new ForwardedCertificateAuthenticator(
            new ForwardedCertificateOptions(options.TrustedFronts, new DecodeLimits(MaxChainDepth: cluster.Options.Validation.MaxChainDepth)),
            cluster.Validator, () => cluster.Trust, new IdentityMapper(cluster.Options.IdentityMappings, cluster.Authorities.ClusterName), cluster.Time));
        builder.Services.AddSingleton(certificates);
        builder.Services.AddSingleton(new RoleCatalog(cluster.Store));
        builder.Services.AddSingleton<ServiceRouter>();
        // One line per protocol of the one TLS port (the router finds each by its ALPN).
        builder.Services.AddSingleton<IProtocolHandler, TcpAppHandler>();
        builder.Services.AddSingleton<IProtocolHandler, SshNodeHandler>();
        builder.Services.AddSingleton<PostgresHandler>();
        builder.Services.AddSingleton<IProtocolHandler>(services => services.GetRequiredService<PostgresHandler>());
        builder.Services.AddSingleton<IProtocolHandler, MySqlHandler>();
        builder.Services.AddSingleton(_ => new DbClientCertificates(cluster.Issuer, cluster.Time)); // from a factory, so the host disposes it
        builder.Services.AddSingleton<PostgresCancels>();
        builder.Services.AddSingleton<QueryAuditWriter>();
        builder.Services.AddSingleton(services =>
        {
            var metrics = new GatehouseMetrics(services.GetService<System.Diagnostics.Metrics.IMeterFactory>());
            metrics.ObserveRevocation(() => RevocationReadings(cluster));
            return metrics;
        });
        builder.Services.AddGatehouseTelemetry();
        builder.Services.AddSingleton(services => new ConnectionRouter(services.GetRequiredService<ServiceRouter>(),
            services.GetRequiredService<PostgresCancels>(), services.GetRequiredService<GatehouseMetrics>(),
            cluster.Time, services.GetRequiredService<ILogger<ConnectionRouter>>()));
        // Registered after the sockets transport: Kestrel asks the last registered factory first, and this one binds
        // only InnerEndPoint.
        builder.Services.AddSingleton<InnerConnections>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>(services => services.GetRequiredService<InnerConnections>());
        builder.Services.AddSingleton<TrustedPeerGate>();
        // One LoginService for /v1/login and the browser sign-in: its per-address failure counts must be shared.
        builder.Services.AddSingleton(cluster.CreateLoginService(userCertificateTtl));
        builder.Services.AddSingleton(new WebSessionCookie(cluster.MasterKey, cluster.Time));
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<ProxyCookieFilter>();
        builder.Services.AddSingleton(services => new UpstreamHeaderRules(
            services.GetRequiredService<ForwardedCertificateAuthenticator>().Options.CertificateHeaderNames, services.GetRequiredService<ProxyCookieFilter>()));
        builder.Services.AddSingleton(cluster.Authorities);
        // One line per kind of forwarded resource (its description); ForwardingMiddleware serves each the same way.
        builder.Services.AddSingleton(new HttpAppRoutes(options.HttpApps, options.PublicAddresses));
        builder.Services.AddSingleton<ResourceForwarding<HttpApp, AccessDecision>, HttpAppForwarding>();
        builder.Services.AddSingleton(new KubeRoutes(options.KubeClusters, options.KubeDefault));
        builder.Services.AddSingleton(_ => new KubeUpstreams(options.KubeClusters)); // from a factory, so the host disposes it
        builder.Services.AddSingleton<ResourceForwarding<KubeCluster, KubeAccess>, KubeForwarding>();
        // Lazy identity: no default authenticate scheme (see NoDefaultAuthenticateScheme); what needs the identity asks.
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ClientCertificateAuthenticationHandler>(ClientCertificateAuthenticationHandler.SchemeName, null);
        builder.Services.AddSingleton<IAuthenticationSchemeProvider, NoDefaultAuthenticateScheme>();
        builder.Services.AddHostedService(services => new TrustRefresher(cluster, options.TrustRefreshInterval, services.GetRequiredService<ILogger<TrustRefresher>>()));
        builder.Services.AddHostedService(services => new CrlUrlRefresher(cluster, services.GetRequiredService<ILogger<CrlUrlRefresher>>()));

        var app = builder.Build();
        app.UseMiddleware<ClientCertificateHeaderGuard>(); // first: nothing may read a forged certificate header
        // Authenticates nothing (no default scheme), but placed here explicitly: otherwise WebApplication adds it at the
        // very start of the pipeline, before the guard, where a default scheme would run on unguarded headers.
        app.UseAuthentication();
        app.UseWebSockets();
        app.UseMiddleware<WebLoginMiddleware>(); // /.gatehouse/login and /logout on every host, before any app can shadow them
        app.UseMiddleware<ForwardingMiddleware<KubeCluster, KubeAccess>>(); // kube-gatehouse.* or /kube/NAME/ goes to a Kubernetes API server
        app.UseMiddleware<ForwardingMiddleware<HttpApp, AccessDecision>>(); // an app's host name or /apps/NAME/ goes to the app, the rest on to our endpoints
        HealthEndpoint.Map(app, cluster);
        UserCrlEndpoint.Map(app, cluster);
        PingEndpoint.Map(app, cluster);
        app.MapGet("/.well-known/jwks.json", () => Results.Text(cluster.Authorities.Jwt.JwksJson(), "application/json"));
        TunnelEndpoint.Map(app, app.Services.GetRequiredService<ServiceRouter>(), app.Services.GetRequiredService<InnerConnections>(), options,
            app.Services.GetRequiredService<AccessAudit>(), cluster.Time, app.Services.GetRequiredService<GatehouseMetrics>(),
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TunnelEndpoint)));
        app.MapMetrics();
        WhoAmIEndpoint.Map(app);
        SshEndpoints.Map(app, options, app.Services.GetRequiredService<RoleCatalog>(), cluster.Authorities.SshHost.KnownHostsLine());
        DatabaseEndpoints.Map(app, options, app.Services.GetRequiredService<RoleCatalog>());
        LoginEndpoint.Map(app, cluster, options, app.Services.GetRequiredService<LoginService>());
        return new ProxyHost(app, certificates);
    }

    private static IEnumerable<RevocationReading> RevocationReadings(ClusterState cluster)
    {
        var now = cluster.Time.GetUtcNow();
        return cluster.Trust.RevocationByIssuer.Values.Select(v =>
            new RevocationReading(v.CaSubject, v.IsHealthy(now), v.Crl is null ? null : now - v.Crl.ThisUpdate, v.LoadedAt));
    }

    /// <summary>TLS for the HTTP side. A callback rather than a certificate selector so that the handshake gets the host
    /// certificate's context made once per certificate (a selector makes SslStream build a context, and the chain, on
    /// every handshake). ALPN is left to Kestrel (it fills in the listener's HTTP protocols).</summary>
    private static TlsHandshakeCallbackOptions HttpsOptions(HostCertificateProvider certificates) => new()
    {
        OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificates.SelectContext(),
            // Asked for, not required: a client may present one (curl --cert), and the authentication handler judges it
            // with the same validator as forwarded certificates, so TLS itself accepts any (or none).
            ClientCertificateRequired = true,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
            CertificateChainPolicy = HostCertificateProvider.UnusedClientChainPolicy(),
        }),
    };

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
