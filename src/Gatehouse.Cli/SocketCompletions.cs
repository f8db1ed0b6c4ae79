namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse proxy db</c> relays many small messages (a statement one way, its rows the other) between a local client
/// and the proxy. By default .NET hands each socket completion from its epoll thread to a thread-pool worker, waking a
/// worker and putting it back to sleep once per message: in the profile of P6 through <c>proxy db</c> the kernel's
/// context switches and the pool's spinning were about half of the process's CPU (docs/benchmarks.md, "Issue 17: the
/// database rows, profiled"). Its continuations only copy, encrypt and decrypt — nothing in the relay blocks — so the
/// runtime may run them on the epoll threads themselves (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>). The
/// runtime reads the variable once, when the first socket is used, so it is set before anything else runs; a value the
/// operator set wins.
/// </summary>
internal static class SocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>True when the completions were made inline for this process.</summary>
    public static bool InlineForLocalDatabaseProxy(string[] args)
    {
        if (!Applies(args, Environment.GetEnvironmentVariable(Variable))) return false;
        Environment.SetEnvironmentVariable(Variable, "1");
        return true;
    }

    /// <summary>Only <c>gatehouse proxy db</c>, and only when the operator has not set the variable (to anything).</summary>
    internal static bool Applies(string[] args, string? operatorValue) => args is ["proxy", "db", ..] && operatorValue is null;
}
