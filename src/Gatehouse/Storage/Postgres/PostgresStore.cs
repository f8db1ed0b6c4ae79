using System.Data.Common;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Gatehouse.Storage.Sql;
using Npgsql;

namespace Gatehouse.Storage.Postgres;

/// <summary>How long <see cref="PostgresStore.OpenAsync(string, PostgresRetry, Action{string}?, CancellationToken)"/>
/// keeps trying a server that does not answer: the delay starts at <paramref name="FirstDelay"/> and doubles up to
/// <paramref name="MaxDelay"/>, and no attempt starts after <paramref name="MaxWait"/>.</summary>
internal sealed record PostgresRetry(TimeSpan MaxWait, TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    /// <summary>0.5 s doubling to 8 s, about 30 s in all: long enough for a server that starts with the proxy.</summary>
    public static PostgresRetry Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(8));
}

/// <summary>The shared store for a cluster of proxies: PostgreSQL through one <see cref="NpgsqlDataSource"/> (a pool),
/// plus one LISTEN connection, opened on first wait, that turns NOTIFY into wake-ups for the change feed. The queries are
/// <see cref="SqlStore"/>'s; this says how PostgreSQL types values, serialises writers (advisory locks) and announces changes.</summary>
internal sealed partial class PostgresStore : SqlStore
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgresStore(NpgsqlDataSource dataSource, NpgsqlConnectionStringBuilder settings, string description)
    {
        _dataSource = dataSource;
        _settings = settings;
        Description = description;
    }

    /// <summary>"PostgreSQL host:port/database": safe for messages, never the password.</summary>
    public override string Description { get; }

    public static Task<PostgresStore> OpenAsync(string connectionString, Action<string>? onRetry, CancellationToken cancellationToken) =>
        OpenAsync(connectionString, PostgresRetry.Default, onRetry, cancellationToken);

    /// <summary>Connects (waiting for a server that is not up yet, reporting each retry through
    /// <paramref name="onRetry"/>) and brings the schema up to date. Every failure is a one-line <see cref="SetupException"/>.</summary>
    public static async Task<PostgresStore> OpenAsync(string connectionString, PostgresRetry retry, Action<string>? onRetry,
        CancellationToken cancellationToken)
    {
        var settings = ParseConnectionString(connectionString);
        var where = Where(settings);
        var dataSource = NpgsqlDataSource.Create(settings);
        var store = new PostgresStore(dataSource, settings, $"PostgreSQL {where}");
        try
        {
            await using var connection = await ConnectWithRetryAsync(dataSource, settings, retry, onRetry, cancellationToken);
            try
            {
                await store.MigrateAsync(connection, store.Description, cancellationToken);
            }
            catch (NpgsqlException e)
            {
                throw new SetupException(Redact(settings,
                    $"{store.Description}: cannot bring the Gatehouse schema up to date ({Reason(e)}); check that the user in storage.connection_string may create tables in that database."), e);
            }
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>True when the database already holds an authority of <paramref name="kind"/>. Unlike opening a store, this
    /// creates no tables.</summary>
    public static async Task<bool> HoldsAuthorityAsync(string connectionString, string kind, Action<string>? onRetry, CancellationToken cancellationToken)
    {
        var settings = ParseConnectionString(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(settings);
        await using var connection = await ConnectWithRetryAsync(dataSource, settings, PostgresRetry.Default, onRetry, cancellationToken);
        // to_regclass first: the authorities table may not exist yet, and a query naming it would fail to plan.
        await using var command = new NpgsqlCommand("SELECT to_regclass('authorities') IS NOT NULL", connection);
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!) return false;
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM authorities WHERE kind = @kind)";
        command.Parameters.AddWithValue("kind", kind);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static NpgsqlConnectionStringBuilder ParseConnectionString(string connectionString)
    {
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // The parser's message names keys, not values; redacted anyway, as the string may be malformed around the password.
            throw new SetupException(RedactRaw(connectionString,
                $"storage.connection_string: not a valid PostgreSQL connection string ({e.Message.TrimEnd('.')}); use the form \"Host=db.example;Port=5432;Database=gatehouse;Username=gatehouse;Password=…\"."), e);
        }
        if (string.IsNullOrWhiteSpace(settings.Host))
            throw new SetupException("storage.connection_string: names no Host; add Host=<server name or address>.");
        return settings;
    }

    private static async Task<NpgsqlConnection> ConnectWithRetryAsync(NpgsqlDataSource dataSource, NpgsqlConnectionStringBuilder settings,
        PostgresRetry retry, Action<string>? onRetry, CancellationToken cancellationToken)
    {
        var where = Where(settings);
        var started = DateTime.UtcNow;
        var delay = retry.FirstDelay;
        while (true)
        {
            try
            {
                return await dataSource.OpenConnectionAsync(cancellationToken);
            }
            catch (PostgresException e) when (!e.IsTransient)
            {
                // The server answered and said no (bad password, unknown database, no pg_hba entry): waiting will not help.
                throw new SetupException(Redact(settings,
                    $"PostgreSQL {where} refused the connection ({e.SqlState}: {e.MessageText.TrimEnd('.')}); check the user, password and database in storage.connection_string."), e);
            }
            catch (NpgsqlException e) when (!e.IsTransient && e.InnerException is not SocketException and not TimeoutException)
            {
                throw new SetupException(Redact(settings,
                    $"PostgreSQL {where}: cannot connect ({Reason(e)}); check storage.connection_string."), e);
            }
            catch (NpgsqlException e)
            {
                var remaining = retry.MaxWait - (DateTime.UtcNow - started);
                if (remaining <= TimeSpan.Zero)
                    throw new SetupException(Redact(settings,
                        $"PostgreSQL {where} is not reachable ({Reason(e)}) after {Seconds(DateTime.UtcNow - started)}; check storage.connection_string (host, port) and that the server is up and accepts connections from this host."), e);
                var wait = delay < remaining ? delay : remaining;
                onRetry?.Invoke(Redact(settings, $"PostgreSQL at {settings.Host}:{settings.Port} is not reachable ({Reason(e)}); retrying in {Seconds(wait)}"));
                await Task.Delay(wait, cancellationToken);
                delay = delay * 2 < retry.MaxDelay ? delay * 2 : retry.MaxDelay;
            }
        }
    }

    /// <summary>host:port/database, as the connection will be made (Npgsql takes the user name when no database is named).</summary>
    private static string Where(NpgsqlConnectionStringBuilder settings) =>
        $"{settings.Host}:{settings.Port}/{settings.Database ?? settings.Username ?? Environment.UserName}";

    private static string Reason(Exception e)
    {
        // "Failed to connect to 127.0.0.1:5432" says less than the socket error beneath it.
        var inner = e.InnerException is SocketException or TimeoutException ? e.InnerException : e;
        return inner is PostgresException p ? $"{p.SqlState}: {p.MessageText}".TrimEnd('.') : inner.Message.TrimEnd('.');
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";

    /// <summary>Belt and braces: no message of ours should hold the password, but a driver message might echo it.</summary>
    private static string Redact(NpgsqlConnectionStringBuilder settings, string message) =>
        string.IsNullOrEmpty(settings.Password) ? message : message.Replace(settings.Password, "***", StringComparison.Ordinal);

    private static string RedactRaw(string connectionString, string message)
    {
        var match = Regex.Match(connectionString, @"(?:password|pwd)\s*=\s*(""[^""]*""|'[^']*'|[^;]*)", RegexOptions.IgnoreCase);
        var password = match.Success ? match.Groups[1].Value.Trim('"', '\'', ' ') : "";
        return password.Length == 0 ? message : message.Replace(password, "***", StringComparison.Ordinal);
    }

    public override async ValueTask DisposeAsync()
    {
        await StopListenerAsync();
        await _dataSource.DisposeAsync();
    }

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);
}
