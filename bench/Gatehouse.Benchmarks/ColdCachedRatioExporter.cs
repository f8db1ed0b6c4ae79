using System.Globalization;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;

namespace Gatehouse.Benchmarks;

/// <summary>
/// Writes results/&lt;title&gt;-ratios.txt: one line per format with the cold and cached means of this run and their
/// ratio (cold mean / cached mean, both from the same summary), plus decode time and allocations.
/// </summary>
internal sealed class ColdCachedRatioExporter : ExporterBase
{
    protected override string FileCaption => "ratios";

    public override void ExportToLog(Summary summary, ILogger logger)
    {
        var byFormat = summary.Reports
            .Where(report => report.ResultStatistics is not null)
            .GroupBy(report => report.BenchmarkCase.Parameters["Format"]?.ToString() ?? "?", StringComparer.Ordinal);
        foreach (var format in byFormat.OrderBy(group => group.Key, StringComparer.Ordinal))
        {
            var reports = format.ToDictionary(report => report.BenchmarkCase.Descriptor.WorkloadMethod.Name, StringComparer.Ordinal);
            if (!reports.TryGetValue("DecodeAndValidateCold", out var cold) || !reports.TryGetValue("DecodeAndValidateCached", out var cached))
            {
                logger.WriteLine($"{format.Key}: cold or cached result missing");
                continue;
            }
            var coldNs = cold.ResultStatistics!.Mean;
            var cachedNs = cached.ResultStatistics!.Mean;
            var line = $"{format.Key}: cold {Micro(coldNs)}, cached {Micro(cachedNs)}, cold/cached {coldNs / cachedNs:0.#}×";
            if (reports.TryGetValue("Decode", out var decode)) line += $" (decode {Micro(decode.ResultStatistics!.Mean)})";
            line += $"; allocated cold {Kilo(cold)}, cached {Kilo(cached)}" + (decode is null ? "" : $", decode {Kilo(decode)}");
            logger.WriteLine(line);
        }
    }

    private static string Micro(double nanoseconds)
    {
        var us = nanoseconds / 1000;
        return (us >= 100 ? us.ToString("0", CultureInfo.InvariantCulture) : us.ToString("0.0#", CultureInfo.InvariantCulture)) + " µs";
    }

    private static string Kilo(BenchmarkReport report) =>
        (report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) is { } bytes ? (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) : "?") + " KB";
}
