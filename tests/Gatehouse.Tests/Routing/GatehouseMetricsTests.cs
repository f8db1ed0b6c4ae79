using System.Diagnostics.Metrics;
using Gatehouse.Routing;

namespace Gatehouse.Tests.Routing;

public sealed class GatehouseMetricsTests
{
    [Fact]
    public void Renders_counters_and_gauges_with_bounded_labels()
    {
        using var metrics = new GatehouseMetrics();
        using var exporter = new PrometheusTextExporter(metrics.Meter);
        metrics.Connection(GatehouseMetrics.Routes.Web);
        metrics.Connection(GatehouseMetrics.Routes.Web);
        metrics.Connection(GatehouseMetrics.Routes.Ssh);
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

        var lines = exporter.Render().Split('\n');
        string[] expected =
        [
            "# HELP gatehouse_connections_total Connections accepted, by route.",
            "# TYPE gatehouse_connections_total counter",
            "gatehouse_connections_total{route=\"ssh\"} 1",
            "gatehouse_connections_total{route=\"unknown\"} 1",
            "gatehouse_connections_total{route=\"web\"} 2",
            "# HELP gatehouse_handshake_failures_total Connections that failed before routing, by reason.",
            "# TYPE gatehouse_handshake_failures_total counter",
            "gatehouse_handshake_failures_total{reason=\"other\"} 1",
            "gatehouse_handshake_failures_total{reason=\"timeout\"} 1",
            "# HELP gatehouse_tunnels_open Tunnels open now, by kind.",
            "# TYPE gatehouse_tunnels_open gauge",
            "gatehouse_tunnels_open{kind=\"raw\"} 1",
            "gatehouse_tunnels_open{kind=\"websocket\"} 1",
            "# HELP gatehouse_bytes_total Bytes relayed, by direction.",
            "# TYPE gatehouse_bytes_total counter",
            "gatehouse_bytes_total{direction=\"in\"} 2000",
            "gatehouse_bytes_total{direction=\"out\"} 42",
            "",
        ];
        Assert.Equal(expected, lines);
    }

    [Fact]
    public void Escapes_label_values_and_help_text_and_sanitises_names()
    {
        using var meter = new Meter("Gatehouse.Tests.Escaping");
        using var exporter = new PrometheusTextExporter(meter);
        var counter = meter.CreateCounter<long>("test.odd-name", description: "a \\ back\nslash");
        var gauge = meter.CreateUpDownCounter<long>("test.no.tags");
        counter.Add(3, new KeyValuePair<string, object?>("path", "C:\\dir \"quoted\"\nnext"));
        counter.Add(1, new KeyValuePair<string, object?>("b", "2"), new KeyValuePair<string, object?>("a", 1));
        gauge.Add(-2);

        var text = exporter.Render();
        Assert.Contains("# HELP test_odd_name_total a \\\\ back\\nslash\n", text);
        Assert.Contains("test_odd_name_total{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} 3\n", text);
        Assert.Contains("test_odd_name_total{a=\"1\",b=\"2\"} 1\n", text); // several tags: sorted by name
        Assert.Contains("# TYPE test_no_tags gauge\ntest_no_tags -2\n", text);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", PrometheusTextExporter.ContentType);
    }

    [Fact]
    public void Another_meter_of_the_same_name_is_not_mixed_in()
    {
        using var mine = new GatehouseMetrics();
        using var other = new GatehouseMetrics();
        using var exporter = new PrometheusTextExporter(mine.Meter);
        other.Connection(GatehouseMetrics.Routes.Kube);
        mine.Connection(GatehouseMetrics.Routes.NotTls);
        var text = exporter.Render();
        Assert.Contains("gatehouse_connections_total{route=\"not_tls\"} 1\n", text);
        Assert.DoesNotContain("kube", text);
    }

    [Fact]
    public void Revocation_gauges_are_read_at_each_render_and_drop_cas_that_are_gone()
    {
        using var metrics = new GatehouseMetrics();
        using var exporter = new PrometheusTextExporter(metrics.Meter);
        var readings = new List<RevocationReading>
        {
            new("CN=Corp Issuing, O=Corp", true, TimeSpan.FromSeconds(90), DateTimeOffset.FromUnixTimeSeconds(1_800_000_000)),
            new("CN=\"Quoted\" CA", false, null, null),
        };
        metrics.ObserveRevocation(() => readings);
        var text = exporter.Render();
        Assert.Contains("# TYPE gatehouse_revocation_source_ok gauge", text);
        Assert.Contains("gatehouse_revocation_source_ok{ca=\"CN=Corp Issuing, O=Corp\"} 1", text);
        Assert.Contains("gatehouse_revocation_source_ok{ca=\"CN=\\\"Quoted\\\" CA\"} 0", text);
        Assert.Contains("gatehouse_revocation_crl_age_seconds{ca=\"CN=Corp Issuing, O=Corp\"} 90", text);
        Assert.Contains("gatehouse_revocation_last_refresh_timestamp_seconds{ca=\"CN=Corp Issuing, O=Corp\"} 1800000000", text);

        readings.RemoveAt(1);
        readings[0] = readings[0] with { Ok = false };
        var again = exporter.Render();
        Assert.Contains("gatehouse_revocation_source_ok{ca=\"CN=Corp Issuing, O=Corp\"} 0", again);
        Assert.DoesNotContain("Quoted", again);
    }
}
