using Gatehouse.Audit;
using Gatehouse.Storage;
using Gatehouse.Storage.Sqlite;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Audit;

/// <summary>Events recorded at the same time share one commit, and each caller still returns only once its own event
/// is in the store (and the JSON-lines file), with its own id.</summary>
public sealed class AuditLogGroupCommitTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private SqliteStore _sqlite = null!;

    public async Task InitializeAsync() => _sqlite = await SqliteStore.OpenAsync(Path.Combine(_dir.Path, SqliteStore.FileName), CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _sqlite.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Events_that_arrive_during_a_commit_share_the_next_one_and_each_is_durable_when_its_caller_returns()
    {
        var store = new HeldFirstCommit(_sqlite);
        var file = Path.Combine(_dir.Path, "audit.jsonl");
        using var log = new AuditLog(store, TimeProvider.System, file);

        // The first event's commit is held open while 50 more are recorded: they queue behind it.
        var first = log.RecordAsync(AuditLog.Event("test.first", "alice"), CancellationToken.None).AsTask();
        await store.FirstCommitStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var others = Enumerable.Range(0, 50)
            .Select(i => log.RecordAsync(AuditLog.Event("test.queued", $"user{i}"), CancellationToken.None).AsTask()).ToList();
        Assert.False(first.IsCompleted);
        Assert.All(others, o => Assert.False(o.IsCompleted));
        store.ReleaseFirstCommit.SetResult();

        var recorded = await Task.WhenAll([first, .. others]).WaitAsync(TimeSpan.FromSeconds(60));

        // Two commits in all: the held one, and one for the 50 that queued behind it.
        Assert.Equal(2, store.Commits);
        Assert.Equal(51, recorded.Select(e => e.Id).Distinct().Count());
        var stored = await _sqlite.QueryAuditAsync(new AuditQuery(Limit: -1), CancellationToken.None);
        Assert.Equal(recorded.Select(e => e.Id).Order(), stored.Select(e => e.Id).Order());
        foreach (var auditEvent in recorded)
            Assert.Equal(auditEvent.User, stored.Single(s => s.Id == auditEvent.Id).User);
        Assert.Equal(51, File.ReadAllLines(file).Length);
    }

    /// <summary>The real store, with its first commit held until the test lets it go, and commits counted.</summary>
    private sealed class HeldFirstCommit(IAuditStore inner) : IAuditStore
    {
        private int _commits;

        public TaskCompletionSource FirstCommitStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource ReleaseFirstCommit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Commits => Volatile.Read(ref _commits);

        public async ValueTask<long> AppendAuditAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
        {
            await HoldFirstAsync();
            return await inner.AppendAuditAsync(auditEvent, cancellationToken);
        }

        public async ValueTask<IReadOnlyList<long>> AppendAuditBatchAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
        {
            await HoldFirstAsync();
            return await inner.AppendAuditBatchAsync(auditEvents, cancellationToken);
        }

        private async Task HoldFirstAsync()
        {
            if (Interlocked.Increment(ref _commits) != 1) return;
            FirstCommitStarted.SetResult();
            await ReleaseFirstCommit.Task;
        }

        public ValueTask<IReadOnlyList<AuditEvent>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken) =>
            inner.QueryAuditAsync(query, cancellationToken);
    }
}
