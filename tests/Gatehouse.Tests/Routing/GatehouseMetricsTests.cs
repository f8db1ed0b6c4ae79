using System.Diagnostics.Metrics;
using Gatehouse.Routing;

namespace Gatehouse.Tests.Routing;

/// <summary>The instruments and their bounded tags; how they are exported (OpenTelemetry, /metrics) is tested end to end.</summary>
public sealed class GatehouseMetricsTests
{
    [Fact]
    public void Tags_come_from_fixed_lists_whatever_the_caller_passes()
    {
        using var metrics = new GatehouseMetrics();
        var totals = new Dictionary<(string Instrument, string Tag), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = (instrument.Name, $"{tags[0].Key}={tags[0].Value}");
            totals[key] = totals.GetValueOrDefault(key) + value;
        });
        listener.Start();

        metrics.Connection(GatehouseMetrics.Routes.Web);
        metrics.Connection(GatehouseMetrics.Routes.Web);
        metrics.Connection("evil\"route\n"); // not in the list: "unknown", never the peer's text
        metrics.HandshakeFailure(GatehouseMetrics.ReasonFor(ClientHelloStatus.TimedOut));
        metrics.HandshakeFailure("certificate expired at 12:00"); // free text: "other"
        metrics.TunnelOpened(TunnelKind.WebSocket);
        metrics.TunnelOpened(TunnelKind.WebSocket);
        metrics.TunnelClosed(TunnelKind.WebSocket);
        metrics.TunnelOpened(TunnelKind.Raw);
        metrics.Bytes(ByteDirection.In, 1500);
        metrics.Bytes(ByteDirection.In, 500);
        metrics.Bytes(ByteDirection.Out, 42);
        metrics.Bytes(ByteDirection.Out, 0); // nothing relayed: not a measurement

        var expected = new Dictionary<(string, string), long>
        {
            [("gatehouse.connections", "route=web")] = 2,
            [("gatehouse.connections", "route=unknown")] = 1,
            [("gatehouse.handshake.failures", "reason=timeout")] = 1,
            [("gatehouse.handshake.failures", "reason=other")] = 1,
            [("gatehouse.tunnels.open", "kind=websocket")] = 1,
            [("gatehouse.tunnels.open", "kind=raw")] = 1,
            [("gatehouse.bytes", "direction=in")] = 2000,
            [("gatehouse.bytes", "direction=out")] = 42,
        };
        Assert.Equal(expected.OrderBy(e => e.Key), totals.OrderBy(e => e.Key));
    }

    [Fact]
    public void Revocation_gauges_are_read_at_each_collection_and_drop_cas_that_are_gone()
    {
        using var metrics = new GatehouseMetrics();
        var readings = new List<RevocationReading>
        {
            new("CN=Corp Issuing, O=Corp", true, TimeSpan.FromSeconds(90), DateTimeOffset.FromUnixTimeSeconds(1_800_000_000)),
            new("CN=\"Quoted\" CA", false, null, null),
        };
        metrics.ObserveRevocation(() => readings);
        var seen = new Dictionary<(string Name, string Ca), long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            seen[(instrument.Name, (string)tags.ToArray().Single(t => t.Key == "ca").Value!)] = value);
        listener.Start();

        listener.RecordObservableInstruments();
        Assert.Equal(1, seen[("gatehouse.revocation.source_ok", "CN=Corp Issuing, O=Corp")]);
        Assert.Equal(0, seen[("gatehouse.revocation.source_ok", "CN=\"Quoted\" CA")]);
        Assert.Equal(90, seen[("gatehouse.revocation.crl_age_seconds", "CN=Corp Issuing, O=Corp")]);
        Assert.Equal(1_800_000_000, seen[("gatehouse.revocation.last_refresh_timestamp_seconds", "CN=Corp Issuing, O=Corp")]);

        readings.RemoveAt(1);
        readings[0] = readings[0] with { Ok = false };
        seen.Clear();
        listener.RecordObservableInstruments();
        Assert.Equal(0, seen[("gatehouse.revocation.source_ok", "CN=Corp Issuing, O=Corp")]);
        Assert.DoesNotContain(seen.Keys, k => k.Ca.Contains("Quoted"));
    }
}
