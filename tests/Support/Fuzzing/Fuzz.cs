using System.Diagnostics;

namespace Gatehouse.Testing.Fuzzing;

/// <summary>One parser under the fuzzer: its seeds (real bytes), its tokens and the bound on what one input may allocate.</summary>
internal sealed record FuzzTarget(string Name, IReadOnlyList<byte[]> Corpus)
{
    public IReadOnlyList<byte[]> Tokens { get; init; } = [];
    public int MaxLength { get; init; } = 64 * 1024;
    /// <summary>Short mode: inputs run by ./test.sh. GATEHOUSE_FUZZ_INPUTS overrides it (the long mode, tests/fuzz.sh).</summary>
    public int ShortInputs { get; init; } = 4000;
    public long MemoryBase { get; init; } = 4 << 20;
    public long MemoryPerInputByte { get; init; } = 64;
}

/// <summary>
/// Runs a property over seeded mutations of a target's corpus: the seeds themselves first, then havoc mutations.
/// The property returns the parser's outcome (counted, so a run shows how deep inputs got) and must throw only for a
/// broken property; any exception fails the run with the seed and index that reproduce it
/// (GATEHOUSE_FUZZ_SEED=S GATEHOUSE_FUZZ_ONLY=I tests/fuzz.sh TARGET). Two more bounds: what one input allocates on the
/// parsing thread (bytes allocated are counted, not time), and a hang watchdog that fails the run when one input has
/// been running for GATEHOUSE_FUZZ_HANG_SECONDS (60 s by default, far beyond any parse on a loaded machine).
/// </summary>
internal static class Fuzz
{
    public const ulong DefaultSeed = 0x6A7E_4F55_2026;

    public static FuzzSummary? Run(FuzzTarget target, Func<byte[], Random, string> property, Action<string> log)
    {
        // tests/fuzz.sh TARGET[,TARGET…] runs those targets' long mode; the others return at once.
        if (Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_TARGET") is { Length: > 0 } chosen && chosen != "all"
            && !chosen.Split(',', StringSplitOptions.TrimEntries).Contains(target.Name))
            return null;
        var seed = Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_SEED") is { Length: > 0 } s ? ulong.Parse(s) : DefaultSeed;
        var inputs = Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_INPUTS") is { Length: > 0 } n ? int.Parse(n) : target.ShortInputs;
        long? only = Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_ONLY") is { Length: > 0 } o ? long.Parse(o) : null;
        var hangLimit = TimeSpan.FromSeconds(Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_HANG_SECONDS") is { Length: > 0 } h ? int.Parse(h) : 60);
        log($"fuzz {target.Name}: seed {seed}, {inputs} inputs, {target.Corpus.Count} seeds ({target.Corpus.Sum(c => c.Length)} bytes)");

        var state = new RunState();
        var started = Stopwatch.StartNew();
        var worker = Task.Factory.StartNew(() =>
        {
            for (long i = only ?? 0; i < (only + 1 ?? inputs); i++)
            {
                var random = new Random(InputSeed(seed, target.Name, i));
                var input = i < target.Corpus.Count ? target.Corpus[(int)i] : Mutator.Mutate(target.Corpus, target.Tokens, random, target.MaxLength);
                state.Begin(i, input);
                var before = GC.GetAllocatedBytesForCurrentThread();
                string outcome;
                try
                {
                    outcome = property(input, random);
                }
                catch (Exception e)
                {
                    throw Failure(target, seed, i, input, $"threw {e}");
                }
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                var bound = target.MemoryBase + target.MemoryPerInputByte * input.Length;
                if (allocated > bound)
                    throw Failure(target, seed, i, input, $"allocated {allocated} bytes for {input.Length} bytes of input (bound {bound})");
                state.End(outcome, allocated);
            }
        }, TaskCreationOptions.LongRunning);

        while (!Finished(worker))
            if (state.Running(out var index, out var input) is { } running && running > hangLimit)
                throw Failure(target, seed, index, input!, $"still running after {running.TotalSeconds:0} s (a hang)");
        worker.GetAwaiter().GetResult();

        var summary = new FuzzSummary(target.Name, seed, state.Count, started.Elapsed, state.MaxAllocated, state.Outcomes);
        log(summary.ToString());
        if (Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_REPORT") is { Length: > 0 } report)
            File.AppendAllText(report, summary + "\n");
        return summary;
    }

    /// <summary>Waits up to half a second; a failed run counts as finished (its exception is thrown unwrapped after).</summary>
    private static bool Finished(Task worker)
    {
        try
        {
            return worker.Wait(TimeSpan.FromMilliseconds(500));
        }
        catch (AggregateException)
        {
            return true;
        }
    }

    private static int InputSeed(ulong seed, string target, long index)
    {
        var x = seed ^ Fnv(target) ^ (ulong)index * 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9; // splitmix64's finaliser: neighbouring indexes get unrelated streams
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return (int)(x ^ (x >> 31));
    }

    private static ulong Fnv(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }

    private static Xunit.Sdk.XunitException Failure(FuzzTarget target, ulong seed, long index, byte[] input, string what)
    {
        var shown = Convert.ToBase64String(input.AsSpan(0, Math.Min(input.Length, 4096)));
        return new Xunit.Sdk.XunitException(
            $"fuzz {target.Name}: input {index} (seed {seed}, {input.Length} bytes) {what}\n" +
            $"reproduce: GATEHOUSE_FUZZ_SEED={seed} GATEHOUSE_FUZZ_ONLY={index} tests/fuzz.sh {target.Name}\n" +
            $"input (base64{(input.Length > 4096 ? ", first 4096 bytes" : "")}): {shown}");
    }

    private sealed class RunState
    {
        private readonly Lock _lock = new();
        private long _index = -1;
        private byte[]? _input;
        private long _startedAt;

        public long Count { get; private set; }
        public long MaxAllocated { get; private set; }
        public SortedDictionary<string, long> Outcomes { get; } = new(StringComparer.Ordinal);

        public void Begin(long index, byte[] input)
        {
            lock (_lock) (_index, _input, _startedAt) = (index, input, Stopwatch.GetTimestamp());
        }

        public void End(string outcome, long allocated)
        {
            lock (_lock) _index = -1;
            Count++;
            MaxAllocated = Math.Max(MaxAllocated, allocated);
            Outcomes[outcome] = Outcomes.GetValueOrDefault(outcome) + 1;
        }

        public TimeSpan? Running(out long index, out byte[]? input)
        {
            lock (_lock)
            {
                (index, input) = (_index, _input);
                return _index < 0 ? null : Stopwatch.GetElapsedTime(_startedAt);
            }
        }
    }
}

internal sealed record FuzzSummary(string Target, ulong Seed, long Inputs, TimeSpan Duration, long MaxAllocated, IReadOnlyDictionary<string, long> Outcomes)
{
    public override string ToString() =>
        $"fuzz {Target}: {Inputs} inputs in {Duration.TotalSeconds:0.0} s, seed {Seed}, 0 failures, max {MaxAllocated} bytes allocated by one input; outcomes: " +
        string.Join(", ", Outcomes.Select(o => $"{o.Key} {o.Value}"));
}
