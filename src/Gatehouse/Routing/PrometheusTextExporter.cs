using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Gatehouse.Routing;

/// <summary>
/// Aggregates the long counters and up-down counters of one <see cref="Meter"/> through a <see cref="MeterListener"/>
/// and renders them in the Prometheus text exposition format 0.0.4, for <c>GET /metrics</c>.
/// </summary>
/// <remarks>
/// Hand-written on purpose: prometheus-net and the OpenTelemetry Prometheus exporter are not in the registry mirror
/// (shared/spec/nuget-packages.md), and the format is small. Counters become <c>name_total</c> of type counter,
/// up-down counters and observable gauges a gauge (observed at each render); dots in names become underscores. Only
/// <c>long</c> measurements are aggregated: all of <see cref="GatehouseMetrics"/> is.
/// </remarks>
internal sealed class PrometheusTextExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly Meter _meter;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Instrument> _instruments = new(); // in the order they were published
    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();
    private readonly Lock _render = new();

    public PrometheusTextExporter(Meter meter)
    {
        _meter = meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter != _meter || instrument is not (Counter<long> or UpDownCounter<long> or ObservableGauge<long>)) return;
            _instruments.Enqueue(instrument);
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    // The hot path: one dictionary look-up keyed by the tag itself; the label text is built once per series.
    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var key = tags.Length switch
        {
            0 => new SeriesKey(instrument, null, null),
            1 => new SeriesKey(instrument, tags[0].Key, tags[0].Value as string ?? Convert.ToString(tags[0].Value, CultureInfo.InvariantCulture)),
            _ => new SeriesKey(instrument, Labels(tags), null), // several tags: rare here, so the allocation is accepted
        };
        var series = _series.GetOrAdd(key, static k => new Series(k.Value is null && k.Name is not null ? k.Name : Labels(k.Name, k.Value)));
        if (instrument is ObservableGauge<long>) Interlocked.Exchange(ref series.Value, value); // a reading, not an increment
        else Interlocked.Add(ref series.Value, value);
    }

    /// <summary>The exposition text: every instrument of the meter, its series sorted by labels.</summary>
    public string Render()
    {
        lock (_render) return RenderObserved();
    }

    private string RenderObserved()
    {
        // Gauges read now: series of a label value no longer reported (a CA removed from the trust) disappear.
        foreach (var key in _series.Keys)
            if (key.Instrument is ObservableGauge<long>) _series.TryRemove(key, out _);
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        var samples = new List<(string Labels, long Value)>();
        foreach (var instrument in _instruments)
        {
            var counter = instrument is Counter<long>;
            var name = MetricName(instrument.Name) + (counter ? "_total" : "");
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(instrument.Description ?? instrument.Name)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(counter ? " counter\n" : " gauge\n");
            samples.Clear();
            foreach (var (key, series) in _series)
                if (key.Instrument == instrument) samples.Add((series.Labels, Interlocked.Read(ref series.Value)));
            samples.Sort(static (a, b) => string.CompareOrdinal(a.Labels, b.Labels));
            foreach (var (labels, value) in samples)
                text.Append(name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private static string Labels(string? name, string? value) =>
        name is null ? "" : $"{{{LabelName(name)}=\"{EscapeLabelValue(value ?? "")}\"}}";

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = tags.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder("{");
        foreach (var (name, value) in sorted)
        {
            if (text.Length > 1) text.Append(',');
            text.Append(LabelName(name)).Append("=\"")
                .Append(EscapeLabelValue(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")).Append('"');
        }
        return text.Append('}').ToString();
    }

    /// <summary>A metric name: [a-zA-Z_:][a-zA-Z0-9_:]*, so <c>gatehouse.bytes</c> becomes <c>gatehouse_bytes</c>.</summary>
    internal static string MetricName(string name) => Sanitize(name, allowColon: true);

    private static string LabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon) => string.Create(name.Length, (name, allowColon), static (span, state) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            var c = state.name[i];
            var ok = char.IsAsciiLetter(c) || c == '_' || (state.allowColon && c == ':') || (i > 0 && char.IsAsciiDigit(c));
            span[i] = ok ? c : '_';
        }
    });

    /// <summary>Label values escape backslash, double quote and line feed (format 0.0.4).</summary>
    internal static string EscapeLabelValue(string value) =>
        value.AsSpan().IndexOfAny('\\', '"', '\n') < 0 ? value : value.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    /// <summary>HELP text escapes backslash and line feed only.</summary>
    private static string EscapeHelp(string text) =>
        text.AsSpan().IndexOfAny('\\', '\n') < 0 ? text : text.Replace("\\", @"\\").Replace("\n", @"\n");

    /// <summary>An instrument and its one tag (Name/Value), or, with several tags, the rendered labels in Name.</summary>
    private readonly record struct SeriesKey(Instrument Instrument, string? Name, string? Value);

    private sealed class Series(string labels)
    {
        public readonly string Labels = labels;
        public long Value;
    }
}
