using System.Net;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Logging;
using Gatehouse.Edge.Targets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// The edge as a running server: one Kestrel endpoint per listener (HTTP/1.1 and h2 over TLS), each with three
/// connection steps — note the connection, TLS with the listener's per-connection options, write the connection-log line
/// — then one request handler that forwards to the target groups; health checks run beside it. The one place that knows
/// every folder.
/// </summary>
internal sealed class EdgeHost(WebApplication app, List<EdgeListener> listeners, Dictionary<string, TargetGroup> groups, LogSink? connectionLog,
    LogSink? accessLog, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _healthChecks = [];

    /// <summary>Builds the edge; a certificate, key, trust store or log file it cannot use stops it here, every problem named.</summary>
    internal static EdgeHost Create(EdgeOptions options, Action<ILoggingBuilder> logging, TimeProvider time)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging(builder.Logging);
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton(time);
        // The edge's own loggers live as long as the host: listeners log refusals from TLS callbacks, outside any request.
        var loggers = LoggerFactory.Create(logging);
        var logger = loggers.CreateLogger("Gatehouse.Edge");

        var errors = new List<string>();
        LogSink? connectionLog = OpenLog(options.ConnectionLog, "logs.connection", logger, errors), accessLog = OpenLog(options.AccessLog, "logs.access", logger, errors);
        var listeners = new List<EdgeListener>();
        for (var i = 0; i < options.Listeners.Count; i++)
            if (EdgeListener.Create(options.Listeners[i], $"listeners[{i}]", options.Name, connectionLog, logger, time, errors) is { } listener)
                listeners.Add(listener);
        if (errors.Count > 0)
        {
            foreach (var listener in listeners) listener.Dispose();
            // Start-up only: close what was opened (the sinks' writers end at once, nothing queued yet).
            connectionLog?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            accessLog?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            loggers.Dispose();
            throw new SetupException($"the edge cannot start; {errors.Count} problem(s):\n  " + string.Join("\n  ", errors));
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = options.IdleTimeout;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(60);
            foreach (var listener in listeners)
                kestrel.Listen(listener.Options.Listen, listen => Configure(listen, listener, logger));
        });
        var app = builder.Build();
        var groups = options.TargetGroups.ToDictionary(g => g.Name, g => new TargetGroup(g, options.IdleTimeout));
        var handler = new EdgeRequestHandler(options, groups, app.Services.GetRequiredService<IHttpForwarder>(), accessLog, logger, time);
        app.Run(handler.InvokeAsync);
        var host = new EdgeHost(app, listeners, groups, connectionLog, accessLog, loggers);
        var healthLogger = loggers.CreateLogger("Gatehouse.Edge.Health");
        foreach (var group in groups.Values)
            if (group.Options.HealthCheck is { } check)
                host._healthChecks.Add(Task.Run(() => new HealthChecker(group, check, healthLogger, time).RunAsync(host._stopping.Token)));
        return host;
    }

    private static LogSink? OpenLog(string? destination, string key, ILogger logger, List<string> errors)
    {
        try { return LogSink.Open(destination, logger); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{key}: cannot write {destination} ({e.Message.TrimEnd('.')})");
            return null;
        }
    }

    private static void Configure(ListenOptions listen, EdgeListener listener, ILogger logger)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        // 1. Note the connection before TLS, so a failed handshake still gets its connection-log line.
        listen.Use(next => async connection =>
        {
            var client = connection.RemoteEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
            var local = connection.LocalEndPoint as IPEndPoint ?? listener.Options.Listen;
            using var state = new EdgeConnection(listener, client, local);
            connection.Features.Set(state);
            try
            {
                await next(connection);
            }
            finally
            {
                if (state.Protocol is null) EdgeLog.HandshakeFailed(logger, listener.Name, client.ToString(), state.Verdict?.Reason ?? "no TLS handshake completed");
                state.Closed();
            }
        });
        // 2. TLS, with options made for this connection (its certificate callback writes into its state).
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            OnConnection = context => ValueTask.FromResult(listener.ServerOptions(context.Connection.Features.Get<EdgeConnection>()!)),
        });
        // 3. The handshake succeeded: fix the connection's header values and write its log line.
        listen.Use(next => connection =>
        {
            var tls = connection.Features.Get<ITlsHandshakeFeature>();
            var sni = tls?.HostName;
            connection.Features.Get<EdgeConnection>()!.HandshakeDone(tls?.Protocol ?? default, tls?.NegotiatedCipherSuite, sni is { Length: > 0 } ? sni : null);
            return next(connection);
        });
    }

    /// <summary>Where each listener listens (its configured port, or the one the system chose for port 0).</summary>
    public IReadOnlyList<Uri> Addresses =>
        [.. (app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []).Select(a => new Uri(a))];

    public Task StartAsync(CancellationToken cancellationToken) => app.StartAsync(cancellationToken);

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_healthChecks);
        await app.DisposeAsync();
        foreach (var group in groups.Values) group.Dispose();
        foreach (var listener in listeners) listener.Dispose();
        if (connectionLog is not null) await connectionLog.DisposeAsync();
        if (accessLog is not null) await accessLog.DisposeAsync();
        loggers.Dispose();
        _stopping.Dispose();
    }
}
