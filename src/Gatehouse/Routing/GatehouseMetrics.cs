using System.Diagnostics.Metrics;

namespace Gatehouse.Routing;

/// <summary>Which way bytes went through the proxy, seen from the client.</summary>
internal enum ByteDirection { In, Out }

/// <summary>One CA's revocation state for the gauges of <see cref="GatehouseMetrics.ObserveRevocation"/>.</summary>
internal sealed record RevocationReading(string Ca, bool Ok, TimeSpan? CrlAge, DateTimeOffset? LastRefresh);

/// <summary>How a tunnel reached the proxy (ARCHITECTURE §4).</summary>
internal enum TunnelKind { WebSocket, Raw }

/// <summary>
/// The proxy's instruments on the meter <see cref="MeterName"/>. Every tag value comes from a fixed list so a peer
/// cannot grow the number of series (as Teleport does: "unknown" / "other" for anything unexpected).
/// </summary>
internal sealed class GatehouseMetrics : IDisposable
{
    public const string MeterName = "Gatehouse";

    /// <summary>Values of the <c>route</c> tag on <c>gatehouse.connections</c>.</summary>
    public static class Routes
    {
        public const string Web = "web", Ssh = "ssh", Postgres = "postgres", MySql = "mysql", Tcp = "tcp", Tunnel = "tunnel",
            Kube = "kube", NotTls = "not_tls", Unknown = "unknown",
            // A connection accepted on the plain-HTTP listener (proxy.http_listen).
            Http = "http";
    }

    /// <summary>Values of the <c>reason</c> tag on <c>gatehouse.handshake.failures</c>.</summary>
    public static class Reasons
    {
        public const string Timeout = "timeout", Closed = "closed", NotTls = "not_tls", TooLarge = "too_large",
            Malformed = "malformed", UnknownProtocol = "unknown_protocol", NoClientCertificate = "no_client_certificate",
            CertificateRefused = "certificate_refused", Tls = "tls", Other = "other",
            // A peer outside the trusted fronts and proxies connected to the plain-HTTP listener.
            UntrustedPeer = "untrusted_peer",
            // A tunnel whose inner certificate is not the user the front forwarded (outer/inner binding).
            BindingRefused = "binding_refused";
    }

    private static readonly string[] KnownRoutes =
        [Routes.Web, Routes.Ssh, Routes.Postgres, Routes.MySql, Routes.Tcp, Routes.Tunnel, Routes.Kube, Routes.NotTls, Routes.Http];

    private static readonly string[] KnownReasons =
    [
        Reasons.Timeout, Reasons.Closed, Reasons.NotTls, Reasons.TooLarge, Reasons.Malformed, Reasons.UnknownProtocol,
        Reasons.NoClientCertificate, Reasons.CertificateRefused, Reasons.Tls, Reasons.UntrustedPeer,
        Reasons.BindingRefused,
    ];

    private readonly Counter<long> _connections;
    private readonly Counter<long> _handshakeFailures;
    private readonly UpDownCounter<long> _tunnelsOpen;
    private readonly Counter<long> _bytes;
    private readonly bool _ownsMeter;

    /// <param name="meterFactory">The host's factory (DI); without one the meter is created and owned here.</param>
    public GatehouseMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        _connections = Meter.CreateCounter<long>("gatehouse.connections", "{connection}", "Connections accepted, by route.");
        _handshakeFailures = Meter.CreateCounter<long>("gatehouse.handshake.failures", "{failure}", "Connections that failed before routing, by reason.");
        _tunnelsOpen = Meter.CreateUpDownCounter<long>("gatehouse.tunnels.open", "{tunnel}", "Tunnels open now, by kind.");
        _bytes = Meter.CreateCounter<long>("gatehouse.bytes", "By", "Bytes relayed, by direction.");
    }

    /// <summary>
    /// Publishes the state of each CA's revocation information (issue 16), read at each scrape:
    /// <c>gatehouse_revocation_source_ok{ca}</c> (1 when a fresh CRL is in force and no source of the CA is failing),
    /// <c>gatehouse_revocation_crl_age_seconds{ca}</c> (since the thisUpdate of the CRL in force) and
    /// <c>gatehouse_revocation_last_refresh_timestamp_seconds{ca}</c> (when that CRL was last read and verified).
    /// The <c>ca</c> values are the subjects of CAs the operator configured, so the series are bounded by configuration.
    /// </summary>
    public void ObserveRevocation(Func<IEnumerable<RevocationReading>> read)
    {
        Meter.CreateObservableGauge("gatehouse.revocation.source_ok", () => read().Select(r => Reading(r.Ok ? 1 : 0, r.Ca)),
            "{boolean}", "1 when the CA's revocation information is loaded, fresh and every source of it works, else 0.");
        Meter.CreateObservableGauge("gatehouse.revocation.crl_age_seconds", () => read().Where(r => r.CrlAge is not null).Select(r => Reading((long)r.CrlAge!.Value.TotalSeconds, r.Ca)),
            "s", "Age of the CA's CRL in force, from its thisUpdate.");
        Meter.CreateObservableGauge("gatehouse.revocation.last_refresh_timestamp_seconds", () => read().Where(r => r.LastRefresh is not null).Select(r => Reading(r.LastRefresh!.Value.ToUnixTimeSeconds(), r.Ca)),
            "s", "When the CA's CRL in force was last read and verified (Unix time).");
    }

    private static Measurement<long> Reading(long value, string ca) => new(value, new KeyValuePair<string, object?>("ca", ca));

    /// <summary>The meter; the proxy host exports it with OpenTelemetry.</summary>
    public Meter Meter { get; }

    /// <summary>Counts a connection; a route not in <see cref="Routes"/> is counted as "unknown".</summary>
    public void Connection(string route) => _connections.Add(1, new KeyValuePair<string, object?>("route", Bounded(route, KnownRoutes, Routes.Unknown)));

    /// <summary>Counts a failed handshake; a reason not in <see cref="Reasons"/> is counted as "other".</summary>
    public void HandshakeFailure(string reason) =>
        _handshakeFailures.Add(1, new KeyValuePair<string, object?>("reason", Bounded(reason, KnownReasons, Reasons.Other)));

    /// <summary>The handshake failure reason for a ClientHello sniff that did not complete.</summary>
    public static string ReasonFor(ClientHelloStatus status) => status switch
    {
        ClientHelloStatus.TimedOut => Reasons.Timeout,
        ClientHelloStatus.Closed => Reasons.Closed,
        ClientHelloStatus.NotTls => Reasons.NotTls,
        ClientHelloStatus.TooLarge => Reasons.TooLarge,
        ClientHelloStatus.Malformed => Reasons.Malformed,
        _ => Reasons.Other,
    };

    public void TunnelOpened(TunnelKind kind) => _tunnelsOpen.Add(1, KindTag(kind));

    public void TunnelClosed(TunnelKind kind) => _tunnelsOpen.Add(-1, KindTag(kind));

    public void Bytes(ByteDirection direction, long count)
    {
        if (count > 0) _bytes.Add(count, new KeyValuePair<string, object?>("direction", direction == ByteDirection.In ? "in" : "out"));
    }

    private static KeyValuePair<string, object?> KindTag(TunnelKind kind) => new("kind", kind == TunnelKind.WebSocket ? "websocket" : "raw");

    // Returns the constant from the list, never the caller's string, so tag values are the interned constants.
    private static string Bounded(string value, string[] known, string fallback)
    {
        foreach (var k in known)
            if (string.Equals(k, value, StringComparison.Ordinal)) return k;
        return fallback;
    }

    public void Dispose()
    {
        if (_ownsMeter) Meter.Dispose();
    }
}
