namespace Gatehouse.Storage;

internal enum StoreKind { Sqlite, Postgres }

/// <param name="Path">SQLite file (default: gatehouse.db in the data directory).</param>
/// <param name="ConnectionString">PostgreSQL connection string (Npgsql syntax).</param>
internal sealed record StoreOptions(StoreKind Kind, string? Path = null, string? ConnectionString = null)
{
    public static StoreOptions Default { get; } = new(StoreKind.Sqlite);
}

internal static class Stores
{
    /// <summary>Opens the configured store and brings its schema up to date.</summary>
    /// <param name="onRetry">Told one line per retry while a PostgreSQL server is not reachable yet.</param>
    public static async Task<IStore> OpenAsync(StoreOptions options, string dataDirectory, CancellationToken cancellationToken,
        Action<string>? onRetry = null) =>
        options.Kind switch
        {
            StoreKind.Sqlite => await Sqlite.SqliteStore.OpenAsync(SqlitePath(options, dataDirectory), cancellationToken),
            StoreKind.Postgres => await Postgres.PostgresStore.OpenAsync(PostgresConnectionString(options), onRetry, cancellationToken),
            _ => throw new SetupException($"storage.kind: {options.Kind} is not available in this build."),
        };

    public static string SqlitePath(StoreOptions options, string dataDirectory) =>
        System.IO.Path.GetFullPath(options.Path ?? System.IO.Path.Combine(dataDirectory, Sqlite.SqliteStore.FileName));

    private static string PostgresConnectionString(StoreOptions options) =>
        string.IsNullOrWhiteSpace(options.ConnectionString)
            ? throw new SetupException("storage.connection_string: required for kind postgres.")
            : options.ConnectionString;

    /// <summary>True when the store already holds an authority of <paramref name="kind"/> (for the user CA: a cluster, so a
    /// start is not the first one). Creates nothing.</summary>
    public static async Task<bool> HoldsAuthorityAsync(StoreOptions options, string dataDirectory, string kind, CancellationToken cancellationToken,
        Action<string>? onRetry = null)
    {
        if (options.Kind == StoreKind.Postgres)
            return await Postgres.PostgresStore.HoldsAuthorityAsync(PostgresConnectionString(options), kind, onRetry, cancellationToken);
        if (options.Kind == StoreKind.Sqlite && !File.Exists(SqlitePath(options, dataDirectory))) return false;
        await using var store = await OpenAsync(options, dataDirectory, cancellationToken);
        return await store.GetAuthorityAsync(kind, cancellationToken) is not null;
    }
}
