namespace Gatehouse.Storage;

/// <summary>
/// A cluster-wide revision number, raised in the same transaction as every change to authorities, users, roles and
/// revocations, so that each proxy can tell cheaply when to refresh what it caches.
/// </summary>
internal interface IChangeFeed
{
    ValueTask<long> GetRevisionAsync(CancellationToken cancellationToken);

    /// <summary>Returns the revision once it differs from <paramref name="known"/>, or the current one after
    /// <paramref name="timeout"/>. PostgreSQL wakes on NOTIFY; SQLite polls.</summary>
    ValueTask<long> WaitForChangeAsync(long known, TimeSpan timeout, CancellationToken cancellationToken);
}
