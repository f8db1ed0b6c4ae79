namespace Gatehouse.Storage.Sql;

internal abstract partial class SqlStore
{
    private static readonly Task Never = new TaskCompletionSource().Task;

    /// <summary>How often a waiter reads the revision again, whatever it has heard (or not: SQLite hears nothing).</summary>
    protected abstract TimeSpan ReReadInterval { get; }

    /// <summary>Completes when another proxy may have changed something (PostgreSQL's NOTIFY). Taken before the revision is
    /// read, so a change that lands between the read and the wait still wakes the waiter. SQLite has none: it polls.</summary>
    protected virtual Task ChangeSignal() => Never;

    /// <summary>The revision as committed now: every call reads it, so what was committed before the call is seen (a role
    /// change applies to the next access decision, whichever process made it).</summary>
    public ValueTask<long> GetRevisionAsync(CancellationToken cancellationToken) => ReadRevisionAsync(cancellationToken);

    protected const string RevisionSql = "SELECT value FROM revision WHERE id = 1";

    /// <summary>One read of the revision; an engine may read it on a connection of its own (SQLite: every access decision
    /// reads it).</summary>
    protected virtual async ValueTask<long> ReadRevisionAsync(CancellationToken cancellationToken) =>
        (long)(await ScalarAsync(RevisionSql, NoParameters, cancellationToken))!;

    public async ValueTask<long> WaitForChangeAsync(long known, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var signal = ChangeSignal();
            var current = await GetRevisionAsync(cancellationToken);
            var remaining = deadline - DateTime.UtcNow;
            if (current != known || remaining <= TimeSpan.Zero) return current;
            // Woken by the signal or by the re-read interval, whichever comes first; the interval is not an error, so it
            // throws nothing (SQLite's waiters wake this way several times a second).
            await signal.WaitAsync(remaining < ReReadInterval ? remaining : ReReadInterval, cancellationToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
