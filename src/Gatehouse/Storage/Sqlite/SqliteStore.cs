using System.Data.Common;
using System.Globalization;
using Gatehouse.Storage.Sql;
using Microsoft.Data.Sqlite;

namespace Gatehouse.Storage.Sqlite;

/// <summary>The embedded default store: one SQLite file in WAL mode under the data directory. The queries are
/// <see cref="SqlStore"/>'s; this says how SQLite keeps time (ISO 8601 text), locks (one writer) and hears of changes (it polls).</summary>
internal sealed class SqliteStore : SqlStore
{
    public const string FileName = "gatehouse.db";
    private readonly string _connectionString;

    /// <summary>Native connections already given the PRAGMAs below (weak: a connection the pool closes is forgotten).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Configured = new();

    private SqliteStore(string connectionString, string path)
    {
        _connectionString = connectionString;
        Path = path;
    }

    public string Path { get; }

    public override string Description => $"SQLite {Path}";

    public override ValueTask DisposeAsync()
    {
        lock (_revisionGate)
        {
            _revisionReadsStopped = true;
            CloseRevisionConnection();
        }
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    private readonly Lock _revisionGate = new();
    private SqliteConnection? _revisionConnection;
    private SqliteCommand? _revisionCommand;
    private bool _revisionReadsStopped;

    /// <summary>Every access decision reads the revision: on one connection kept open with its statement prepared once,
    /// instead of a pooled connection and a statement parsed per read (4% of an HTTP app request's CPU;
    /// docs/benchmarks.md, "Issue 17, second pass"). Still one read per call: each step is its own read transaction, which
    /// sees every commit made before it by this or any other process (SQLite's WAL index), so nothing is stale. The
    /// statement takes microseconds and SQLite runs it synchronously anyway, so a lock serialises the few callers.</summary>
    protected override ValueTask<long> ReadRevisionAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_revisionGate)
        {
            ObjectDisposedException.ThrowIf(_revisionReadsStopped, this);
            try
            {
                if (_revisionCommand is null)
                {
                    _revisionConnection = new SqliteConnection(_connectionString);
                    _revisionConnection.Open();
                    using (var pragma = _revisionConnection.CreateCommand())
                    {
                        pragma.CommandText = "PRAGMA busy_timeout=30000;";
                        pragma.ExecuteNonQuery();
                    }
                    _revisionCommand = _revisionConnection.CreateCommand();
                    _revisionCommand.CommandText = RevisionSql;
                    _revisionCommand.Prepare();
                }
                return ValueTask.FromResult((long)_revisionCommand.ExecuteScalar()!);
            }
            catch
            {
                // A broken connection is not kept: the next read opens a new one.
                CloseRevisionConnection();
                throw;
            }
        }
    }

    private void CloseRevisionConnection()
    {
        _revisionCommand?.Dispose();
        _revisionConnection?.Dispose();
        _revisionCommand = null;
        _revisionConnection = null;
    }

    /// <summary>Opens (creating if needed) the database and brings its schema up to date.</summary>
    public static async Task<SqliteStore> OpenAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 };
        var store = new SqliteStore(builder.ToString(), path);
        try
        {
            await using var connection = await store.OpenConnectionAsync(cancellationToken);
            await store.MigrateAsync(connection, connection.DataSource, cancellationToken);
        }
        catch (SqliteException e)
        {
            throw new SetupException($"{path}: cannot open the SQLite store ({e.Message.TrimEnd('.')}). If the file is damaged, restore it from a backup.", e);
        }
        return store;
    }

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // The settings belong to the native connection, which the pool keeps open between uses: set once per native
        // connection, not per open (they were three statements parsed and run before every query, the largest SQLite
        // cost of a role check; docs/benchmarks.md, "P4 profile").
        if (connection.Handle is { } handle && !Configured.TryGetValue(handle, out _))
        {
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            Configured.AddOrUpdate(handle, Configured);
        }
        return connection;
    }

    /// <summary>BEGIN IMMEDIATE: the write lock is taken at once, before anything is read, so what the transaction reads
    /// cannot go stale before it writes (SQLite lets one writer in at a time).</summary>
    protected override ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        ValueTask.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    /// <summary>Nothing to add: the write transaction already keeps every other writer out.</summary>
    protected override Task LockLoginAttemptsAsync(DbConnection connection, DbTransaction transaction, string user, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>Nothing to add: the migration's write transaction (BEGIN IMMEDIATE) already keeps every other opener out.</summary>
    protected override Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    protected override string RaiseRevisionSql => "UPDATE revision SET value = value + 1 WHERE id = 1";

    protected override TimeSpan ReReadInterval { get; } = TimeSpan.FromMilliseconds(500);

    protected override string ByteOrder => "BINARY";

    protected override SqlColumnTypes ColumnTypes { get; } = new(Text: "TEXT", Time: "TEXT", Bytes: "BLOB", Json: "TEXT", Boolean: "INTEGER",
        Integer: "INTEGER", BigInt: "INTEGER", IdentityKey: "INTEGER PRIMARY KEY AUTOINCREMENT", IndexRevocationsByAuthority: false);

    protected override string MigrationsTableSql =>
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";

    protected override string RecordMigrationSql => "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, datetime('now'))";

    /// <summary>Time as ISO 8601 UTC text (sorts as it compares), booleans as 0 and 1; the rest as given.</summary>
    protected override void Bind(DbParameter parameter, SqlType type, object? value) =>
        parameter.Value = value switch
        {
            null => DBNull.Value,
            DateTimeOffset time => FormatTime(time),
            bool flag => flag ? 1 : 0,
            _ => value,
        };

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => ParseTime(reader.GetString(ordinal));

    private static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
