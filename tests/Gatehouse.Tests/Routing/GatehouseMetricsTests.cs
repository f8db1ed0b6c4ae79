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
}
