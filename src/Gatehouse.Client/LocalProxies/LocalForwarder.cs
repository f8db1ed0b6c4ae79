using System.Net;
using System.Net.Http;
using Gatehouse.Client.Dialing;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Client.LocalProxies;

/// <summary>What a local proxy serves: one path on the proxy's web side (<c>/kube/NAME</c> or <c>/apps/NAME</c>), and
/// how it words an error for its clients (a Kubernetes Status for kubectl, plain text for browsers and curl).</summary>
internal sealed record LocalTarget(string RemotePrefix, string Description, Func<HttpContext, int, string, Task> WriteError);

/// <summary>
/// A local HTTP(S) port on 127.0.0.1 that forwards every request, upgrades included (kubectl exec, WebSocket apps), to
/// one path of the proxy's web side with YARP's <see cref="IHttpForwarder"/> over <see cref="WebSideClient"/> — for
/// networks where a balancer without mTLS sits in front, so the user's certificate must travel inside a tunnel.
/// With <see cref="LocalCertificates"/> the port is HTTPS and accepts only the local authority's client certificate.
/// </summary>
internal sealed class LocalForwarder(WebApplication app, HttpMessageInvoker client, int port) : IAsyncDisposable
{
    // Watches and exec sessions are long; the API server and the proxy end them, not this hop.
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(30),
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public int Port { get; } = port;

    public static async Task<LocalForwarder> StartAsync(int port, ProxyDialer dialer, LocalTarget target, LocalCertificates? tls, TextWriter errors,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                if (tls is null) return;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = tls.Server,
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = (presented, _, _) => tls.Issued(presented),
                });
            });
        });
        builder.Services.AddHttpForwarder();
        // The command owns Ctrl-C (System.CommandLine cancels its token); the host's console lifetime must not handle the
        // signal as well, or the two race over shutting down.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        var app = builder.Build();
        var client = WebSideClient.Create(dialer);
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var destination = new Uri(WebSideClient.BaseAddress, target.RemotePrefix).ToString();
        var transformer = new LocalTransformer(target.RemotePrefix);
        app.Run(async context =>
        {
            var error = await forwarder.SendAsync(context, destination, client, RequestConfig, transformer);
            if (error == ForwarderError.None || context.Response.HasStarted || error is ForwarderError.RequestCanceled or ForwarderError.UpgradeRequestCanceled)
                return;
            var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            var sentence = WebSideClient.DialFailure(exception) is { } dial
                ? $"gatehouse: cannot reach the proxy for {target.Description}: {dial}"
                : $"gatehouse: forwarding to {target.Description} failed ({error}: {Innermost(exception)})";
            await errors.WriteLineAsync(sentence);
            await target.WriteError(context, StatusCodes.Status502BadGateway, sentence);
        });
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            client.Dispose();
            throw;
        }
        return new LocalForwarder(app, client, new Uri(app.Urls.First()).Port);
    }

    /// <summary>The message that says what happened: HttpClient wraps it ("An error occurred while sending the request").</summary>
    private static string Innermost(Exception? exception)
    {
        if (exception is null) return "no detail";
        while (exception.InnerException is not null) exception = exception.InnerException;
        return exception.Message;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        try
        {
            await app.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Open watches and exec sessions are cut at shutdown.
        }
        await app.DisposeAsync();
        client.Dispose();
    }

    /// <summary>Sends to the proxy's name (not 127.0.0.1:PORT), and takes the remote prefix back out of redirects so that
    /// they stay on the local port.</summary>
    private sealed class LocalTransformer(string remotePrefix) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.Headers.Host = null; // the request URI's host: gatehouse.internal
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
            CancellationToken cancellationToken)
        {
            var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            var location = httpContext.Response.Headers.Location.ToString();
            if (location.Length > 0 && LocalLocation(location, remotePrefix) is { } local) httpContext.Response.Headers.Location = local;
            return copy;
        }
    }

    /// <summary>A redirect to the proxy's web side under <paramref name="remotePrefix"/>, as a path on the local port; null
    /// when it points elsewhere (another site stays as it is).</summary>
    internal static string? LocalLocation(string location, string remotePrefix)
    {
        var path = location;
        if (Uri.TryCreate(location, UriKind.Absolute, out var absolute) && absolute.Scheme is "https" or "http")
        {
            if (!string.Equals(absolute.Host, WebSideClient.BaseAddress.Host, StringComparison.OrdinalIgnoreCase)) return null;
            path = absolute.PathAndQuery + absolute.Fragment;
        }
        if (!path.StartsWith('/')) return null;
        if (path == remotePrefix) return "/";
        return path.StartsWith(remotePrefix + "/", StringComparison.Ordinal) ? path[remotePrefix.Length..] : null;
    }
}

/// <summary>A host lifetime that leaves start and stop to the command that runs the host.</summary>
internal sealed class CommandLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
