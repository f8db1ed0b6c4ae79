using System.Runtime.InteropServices;

namespace Gatehouse.Cli;

/// <summary>
/// glibc's malloc gives threads that contend for it arenas of their own, up to eight per core. A proxy holding thousands
/// of TLS sessions (OpenSSL allocates with malloc) from every thread-pool thread then spreads its native memory over
/// many arenas, and freed memory stays scattered in them: its resident size keeps creeping up with a flat managed heap
/// (docs/reliability.md, Soak). One arena per core (at least two) keeps it flat. Applied only on glibc and only when the
/// operator has not chosen with <c>MALLOC_ARENA_MAX</c>, which glibc reads itself at start.
/// </summary>
internal static class NativeAllocator
{
    private const int ArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h

    /// <summary>True when the limit was applied.</summary>
    public static bool LimitArenas()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return false;
        try
        {
            return mallopt(ArenaMax, Math.Max(2, Environment.ProcessorCount)) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl has no arenas to limit)
        }
    }

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
