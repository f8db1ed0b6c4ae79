namespace Gatehouse.Storage.Sql;

internal abstract partial class SqlStore
{
    private static readonly Task Never = new TaskCompletionSource().Task;

    /// <summary>How often a waiter reads the revision again, whatever it has heard (or not: SQLite hears nothing).</summary>
    protected abstract TimeSpan ReReadInterval { get; }

    /// <summary>Completes when another proxy may have changed something (PostgreSQL's NOTIFY). Taken before the revision is
    /// read, so a change that lands between the read and the wait still wakes the waiter. SQLite has none: it polls.</summary>
    protected virtual Task ChangeSignal() => Never;

    public async ValueTask<long> GetRevisionAsync(CancellationToken cancellationToken) =>
        (long)(await ScalarAsync("SELECT value FROM revision WHERE id = 1", NoParameters, cancellationToken))!;

    public async ValueTask<long> WaitForChangeAsync(long known, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var signal = ChangeSignal();
            var current = await GetRevisionAsync(cancellationToken);
            var remaining = deadline - DateTime.UtcNow;
            if (current != known || remaining <= TimeSpan.Zero) return current;
            try
            {
                await signal.WaitAsync(remaining < ReReadInterval ? remaining : ReReadInterval, cancellationToken);
            }
            catch (TimeoutException)
            {
                // time to read again
            }
        }
    }
}
