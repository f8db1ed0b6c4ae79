using Npgsql;

namespace Gatehouse.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private const string Channel = "gatehouse_changes";

    private static readonly TimeSpan ListenerReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly NpgsqlConnectionStringBuilder _settings;
    private readonly Lock _listenerLock = new();
    private CancellationTokenSource? _listenerStop;
    private Task? _listener;
    private bool _stopped;

    /// <summary>Completed (and replaced) each time a NOTIFY arrives or the listener reconnects.</summary>
    private TaskCompletionSource _changeSignal = NewSignal();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raises the revision and announces it to every listening proxy; both become visible only when the
    /// transaction of the change commits.</summary>
    protected override string RaiseRevisionSql => $"""
        WITH raised AS (UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value)
        SELECT pg_notify('{Channel}', value::text) FROM raised
        """;

    /// <summary>NOTIFY can be lost (the LISTEN connection drops, a proxy starts listening late), so waiters re-read
    /// the revision at least this often whatever they hear.</summary>
    protected override TimeSpan ReReadInterval { get; } = TimeSpan.FromSeconds(2);

    protected override Task ChangeSignal()
    {
        EnsureListening();
        return Volatile.Read(ref _changeSignal).Task;
    }

    private void Pulse() => Interlocked.Exchange(ref _changeSignal, NewSignal()).TrySetResult();

    private void EnsureListening()
    {
        lock (_listenerLock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_listener is not null) return;
            _listenerStop = new CancellationTokenSource();
            _listener = Task.Run(() => ListenAsync(_listenerStop.Token));
        }
    }

    /// <summary>Holds one LISTEN connection for the life of the store, reconnecting whenever it drops.</summary>
    private async Task ListenAsync(CancellationToken stop)
    {
        // Outside the pool: returning a pooled connection resets it (DISCARD ALL), which would also UNLISTEN.
        // KeepAlive makes a silently dead peer show up as an error in WaitAsync instead of a wait that never ends.
        var settings = new NpgsqlConnectionStringBuilder(_settings.ConnectionString) { Pooling = false, KeepAlive = 10 };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(settings.ConnectionString);
                await connection.OpenAsync(stop);
                connection.Notification += (_, _) => Pulse();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stop);
                Pulse(); // changes made while we were not listening were not announced to us: have waiters re-read
                while (true)
                    await connection.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
            {
                // The server went away or restarted; waiters fall back on the safety-net reads until we are back.
                try { await Task.Delay(ListenerReconnectDelay, stop); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task StopListenerAsync()
    {
        Task? listener;
        lock (_listenerLock)
        {
            if (_stopped) return;
            _stopped = true;
            listener = _listener;
            _listenerStop?.Cancel();
        }
        if (listener is not null) await listener;
        _listenerStop?.Dispose();
    }
}
