using Gatehouse.Routing;
using OpenTelemetry.Metrics;

namespace Gatehouse.Proxy.Hosting;

/// <summary>
/// The proxy's metrics (<see cref="GatehouseMetrics"/>, System.Diagnostics.Metrics) exported by OpenTelemetry: Prometheus
/// text at <c>GET /metrics</c>, and OTLP as well when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. OpenTelemetry rather than
/// prometheus-net: our instruments are already System.Diagnostics.Metrics, which OpenTelemetry exports as they are (one
/// model for Prometheus and OTLP), while prometheus-net has its own metric types and would mix in every meter of the process.
/// The Prometheus names are those of the exporter this replaces: gatehouse_connections_total, gatehouse_handshake_failures_total,
/// gatehouse_tunnels_open (a gauge) and gatehouse_bytes_total.
/// </summary>
internal static class Telemetry
{
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void AddGatehouseTelemetry(this IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(GatehouseMetrics.MeterName)
                // No response cache: a scrape right after a connection must count it (tests and health checks rely on it).
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
            if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(OtlpEndpointVariable)))
                metrics.AddOtlpExporter();
        });

    public static void MapMetrics(this WebApplication app) => app.MapPrometheusScrapingEndpoint("/metrics");
}
