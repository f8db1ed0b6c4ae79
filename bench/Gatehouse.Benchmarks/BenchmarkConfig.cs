using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace Gatehouse.Benchmarks;

/// <summary>Times in µs everywhere (cold and cached differ by orders of magnitude; one unit keeps them comparable)
/// and the cold/cached ratio file that bench/run.sh prints.</summary>
internal sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond).WithCultureInfo(CultureInfo.InvariantCulture);
        AddExporter(new ColdCachedRatioExporter());
    }
}
