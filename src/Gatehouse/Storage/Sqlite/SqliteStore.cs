using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Gatehouse.Storage.Sqlite;

/// <summary>The embedded default store: one SQLite file in WAL mode under the data directory.</summary>
internal sealed partial class SqliteStore : IStore
{
    public const string FileName = "gatehouse.db";
    private readonly string _connectionString;

    private SqliteStore(string connectionString) => _connectionString = connectionString;

    public string Path { get; private init; } = "";

    public string Description => $"SQLite {Path}";

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    /// <summary>Opens (creating if needed) the database and brings its schema up to date.</summary>
    public static async Task<SqliteStore> OpenAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 };
        var store = new SqliteStore(builder.ToString()) { Path = path };
        try
        {
            await using var connection = await store.OpenConnectionAsync(cancellationToken);
            await SqliteMigrations.ApplyAsync(connection, cancellationToken);
        }
        catch (SqliteException e)
        {
            throw new SetupException($"{path}: cannot open the SQLite store ({e.Message.TrimEnd('.')}). If the file is damaged, restore it from a backup.", e);
        }
        return store;
    }

    internal async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    public async ValueTask<StoredAuthority?> GetAuthorityAsync(string kind, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadAuthorityAsync(connection, kind, cancellationToken);
    }

    private static async Task<StoredAuthority?> ReadAuthorityAsync(SqliteConnection connection, string kind, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, key_family, public_part, sealed_key, created_at FROM authorities WHERE kind = $kind";
        command.Parameters.AddWithValue("$kind", kind);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new StoredAuthority(reader.GetString(0), reader.GetString(1), reader.GetString(2), (byte[])reader["sealed_key"],
            ParseTime(reader.GetString(4)));
    }

    public async ValueTask<StoredAuthority> AddAuthorityIfAbsentAsync(StoredAuthority authority, CancellationToken cancellationToken)
    {
        // One transaction for the row and the revision, as for every other change: a crash between the two
        // would leave a new CA that no proxy is told to load.
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO authorities (kind, key_family, public_part, sealed_key, created_at)
                VALUES ($kind, $family, $public, $sealed, $created) ON CONFLICT (kind) DO NOTHING
                """;
            command.Parameters.AddWithValue("$kind", authority.Kind);
            command.Parameters.AddWithValue("$family", authority.KeyFamily);
            command.Parameters.AddWithValue("$public", authority.PublicPart);
            command.Parameters.AddWithValue("$sealed", authority.SealedPrivateKey);
            command.Parameters.AddWithValue("$created", FormatTime(authority.CreatedAt));
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (added, added);
        }, cancellationToken);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadAuthorityAsync(connection, authority.Kind, cancellationToken)
            ?? throw new InvalidOperationException($"authority '{authority.Kind}' vanished right after it was stored");
    }

    public async ValueTask RecordIssuedAsync(IssuedCertificate certificate, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO issued_certificates (serial, authority, usage, subject, not_before, not_after, issued_at)
            VALUES ($serial, $authority, $usage, $subject, $nb, $na, $at)
            """;
        command.Parameters.AddWithValue("$serial", certificate.Serial);
        command.Parameters.AddWithValue("$authority", certificate.Authority);
        command.Parameters.AddWithValue("$usage", certificate.Usage);
        command.Parameters.AddWithValue("$subject", certificate.Subject);
        command.Parameters.AddWithValue("$nb", FormatTime(certificate.NotBefore));
        command.Parameters.AddWithValue("$na", FormatTime(certificate.NotAfter));
        command.Parameters.AddWithValue("$at", FormatTime(certificate.IssuedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask<IssuedCertificate?> FindIssuedAsync(string serial, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT serial, authority, usage, subject, not_before, not_after, issued_at FROM issued_certificates WHERE serial = $serial";
        command.Parameters.AddWithValue("$serial", serial);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new IssuedCertificate(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            ParseTime(reader.GetString(4)), ParseTime(reader.GetString(5)), ParseTime(reader.GetString(6)));
    }

    public async ValueTask<RevokeOutcome> RevokeAsync(StoredRevocation revocation, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO revocations (serial, authority, reason, revoked_at) VALUES ($serial, $authority, $reason, $at)
            ON CONFLICT (serial) DO NOTHING
            """;
        command.Parameters.AddWithValue("$serial", revocation.Serial);
        command.Parameters.AddWithValue("$authority", revocation.Authority);
        command.Parameters.AddWithValue("$reason", revocation.Reason);
        command.Parameters.AddWithValue("$at", FormatTime(revocation.RevokedAt));
        await using var transaction = connection.BeginTransaction(deferred: false);
        command.Transaction = transaction;
        var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (added) await BumpRevisionAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return added ? RevokeOutcome.Revoked : RevokeOutcome.AlreadyRevoked;
    }

    public async ValueTask<IReadOnlyList<StoredRevocation>> ListRevocationsAsync(string authority, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT serial, authority, reason, revoked_at FROM revocations WHERE authority = $authority ORDER BY revoked_at, serial";
        command.Parameters.AddWithValue("$authority", authority);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredRevocation>();
        while (await reader.ReadAsync(cancellationToken))
            list.Add(new StoredRevocation(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), ParseTime(reader.GetString(3))));
        return list;
    }

    public async ValueTask<long> NextCrlNumberAsync(string authority, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // One statement: atomic even with several writers (SQLite serialises writes).
        command.CommandText = """
            INSERT INTO crl_numbers (authority, last_number) VALUES ($authority, 1)
            ON CONFLICT (authority) DO UPDATE SET last_number = last_number + 1
            RETURNING last_number
            """;
        command.Parameters.AddWithValue("$authority", authority);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    internal static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    internal static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
