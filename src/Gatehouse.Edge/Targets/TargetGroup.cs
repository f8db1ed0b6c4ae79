using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Edge.Configuration;
using Gatehouse.Pki.Trust;

namespace Gatehouse.Edge.Targets;

/// <summary>One target of a group and what its health checks say.</summary>
internal sealed class Target(DnsEndPoint endpoint, string prefix)
{
    private int _passes, _failures;

    public DnsEndPoint Endpoint { get; } = endpoint;

    /// <summary>http(s)://host:port, what the forwarder puts the path after.</summary>
    public string Prefix { get; } = prefix;

    /// <summary>Healthy until health checks say otherwise (a group without health checks has only healthy targets).</summary>
    public bool Healthy { get; private set; } = true;

    public override string ToString() => $"{Endpoint.Host}:{Endpoint.Port}";

    /// <summary>Counts one check; returns true when the state changed (healthy_threshold passes or unhealthy_threshold failures in a row).</summary>
    public bool Record(bool passed, HealthCheckOptions options)
    {
        if (passed) { _failures = 0; _passes++; } else { _passes = 0; _failures++; }
        var next = Healthy ? _failures < options.UnhealthyThreshold : _passes >= options.HealthyThreshold;
        if (next == Healthy) return false;
        Healthy = next;
        return true;
    }
}

/// <summary>
/// A target group: its targets, round robin over the healthy ones (over all of them when none is healthy — ALB fails
/// open), and the one HTTP/1.1 client that reaches them (HTTPS targets: the group's CA and server name are checked).
/// </summary>
internal sealed class TargetGroup : IDisposable
{
    private int _next = -1;

    public TargetGroup(TargetGroupOptions options, TimeSpan idleTimeout)
    {
        Options = options;
        var scheme = options.Protocol == TargetProtocol.Https ? "https" : "http";
        Targets = [.. options.Targets.Select(t => new Target(t, $"{scheme}://{(t.Host.Contains(':') ? $"[{t.Host}]" : t.Host)}:{t.Port}"))];
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = idleTimeout,
            ActivityHeadersPropagator = null,
        };
        if (options.Tls is { } tls)
        {
            _roots.ImportFromPemFile(tls.CaFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                TargetHost = tls.ServerName,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    certificate is not null && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                    && Chains.ChainsTo(_roots, certificate, Chains.ServerAuth),
            };
        }
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    private readonly X509Certificate2Collection _roots = [];

    public TargetGroupOptions Options { get; }

    public string Name => Options.Name;

    public IReadOnlyList<Target> Targets { get; }

    public HttpMessageInvoker Invoker { get; }

    /// <summary>The next healthy target in turn (any target when none is healthy), or null when the group has none.</summary>
    public Target? Next()
    {
        if (Targets.Count == 0) return null;
        for (var tries = 0; tries < Targets.Count; tries++)
        {
            var candidate = Targets[(int)((uint)Interlocked.Increment(ref _next) % (uint)Targets.Count)];
            if (candidate.Healthy) return candidate;
        }
        // None healthy, or the health checks took the last one out while this looked: fail open, as an ALB does.
        return Targets[(int)((uint)Interlocked.Increment(ref _next) % (uint)Targets.Count)];
    }

    public void Dispose()
    {
        Invoker.Dispose();
        foreach (var root in _roots) root.Dispose();
    }
}
