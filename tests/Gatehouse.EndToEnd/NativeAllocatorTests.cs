using Gatehouse.Cli;

namespace Gatehouse.EndToEnd;

/// <summary>The arena limit the gatehouse process sets at start (docs/reliability.md, Soak) reaches glibc's allocator
/// (the test machines run Debian), unless the operator chose with MALLOC_ARENA_MAX.</summary>
public sealed class NativeAllocatorTests
{
    [Fact]
    public void Glibc_accepts_the_arena_limit_unless_MALLOC_ARENA_MAX_is_set()
    {
        var operatorChose = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null;

        Assert.Equal(!operatorChose, NativeAllocator.LimitArenas());
    }
}
