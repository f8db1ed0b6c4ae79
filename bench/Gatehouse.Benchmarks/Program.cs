using BenchmarkDotNet.Running;

namespace Gatehouse.Benchmarks;

internal static class Program
{
    /// <summary>bench/run.sh passes its arguments through (default: --filter '*' --job short).</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
