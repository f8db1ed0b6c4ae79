using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.LocalProxies;
using Gatehouse.Client.Profiles;

namespace Gatehouse.Client.Databases;

/// <summary>A database as <c>GET /v1/databases</c> lists it: one the user may reach, the db users and names their roles
/// allow (<c>*</c>: any), and the TLS server name that reaches it on the one port.</summary>
internal sealed record DatabaseListing(string Name, string Protocol, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<string> DbUsers,
    IReadOnlyList<string> DbNames, string ServerName);

/// <summary>
/// What psql (and any libpq program) needs to reach a database through Gatehouse: straight to the one port with the
/// profile's certificate (<see cref="DirectParameters"/>: the database in the host name, the proxy's address in
/// hostaddr, so no DNS entry is needed), or to a local port that tunnels (<see cref="LocalParameters"/>).
/// </summary>
internal sealed class DbSetup(ProxyDialer dialer, string profileDirectory)
{
    public ProxyDialer Dialer => dialer;

    public ProxyAddress Proxy => dialer.Options.Proxy;

    public async Task<(IReadOnlyList<DatabaseListing>? Databases, string? Error)> ListAsync(CancellationToken cancellationToken)
    {
        var (text, error) = await WebSideClient.GetTextAsync(dialer, "v1/databases", cancellationToken);
        if (text is null) return (null, $"could not list the databases at {dialer.Options.Proxy}: {error}");
        try
        {
            using var json = JsonDocument.Parse(text);
            static IReadOnlyList<string> Strings(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetString()!)];
            return ([.. json.RootElement.GetProperty("databases").EnumerateArray().Select(d => new DatabaseListing(
                d.GetProperty("name").GetString()!, d.GetProperty("protocol").GetString()!,
                d.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                Strings(d.GetProperty("db_users")), Strings(d.GetProperty("db_names")), d.GetProperty("server_name").GetString()!))], null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, $"{dialer.Options.Proxy} answered /v1/databases with something this client cannot read ({e.Message})");
        }
    }

    /// <summary>The database named <paramref name="name"/> among those the user may reach, or the sentence why not.</summary>
    public async Task<(DatabaseListing? Database, string? Error)> FindAsync(string name, CancellationToken cancellationToken)
    {
        var (listed, error) = await ListAsync(cancellationToken);
        if (listed is null) return (null, error);
        return listed.FirstOrDefault(d => d.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } found ? (found, null)
            : (null, $"there is no database '{name}' you may reach at {dialer.Options.Proxy}" +
                     (listed.Count == 0 ? " (your roles allow none)" : $"; you may reach: {string.Join(", ", listed.Select(d => d.Name))}"));
    }

    /// <summary>The db user to log in as: the one asked for, else the only one the roles name; or the sentence why not.</summary>
    public static (string? DbUser, string? Error) DbUser(DatabaseListing database, string? asked)
    {
        if (asked is not null) return (asked, null);
        var named = database.DbUsers.Where(u => u != "*").ToList();
        return named.Count == 1 ? (named[0], null)
            : (null, $"name the db user with --db-user (your roles allow on '{database.Name}': {(named.Count == 0 ? "any" : string.Join(", ", named))})");
    }

    /// <summary>libpq parameters for plain psql straight to the one port, verifying the proxy by the cluster's host CA.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> DirectParametersAsync(DatabaseListing database, string dbUser, string? dbName,
        CancellationToken cancellationToken)
    {
        var proxy = dialer.Options.Proxy;
        var address = IPAddress.TryParse(proxy.Host, out var ip) ? ip
            : (await Dns.GetHostAddressesAsync(proxy.Host, cancellationToken)).OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).First();
        return
        [
            new("host", database.ServerName), new("hostaddr", address.ToString()), new("port", proxy.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("user", dbUser), .. DbNameParameter(dbName),
            new("sslmode", "verify-full"),
            new("sslrootcert", Path.Combine(profileDirectory, ProfileStore.HostCaFile)),
            new("sslcert", Path.Combine(profileDirectory, IdentityFiles.Certificate)),
            new("sslkey", Path.Combine(profileDirectory, IdentityFiles.PrivateKey)),
        ];
    }

    /// <summary>libpq parameters for a local port of <c>gatehouse proxy db</c>: plain TCP on 127.0.0.1, the TLS is the tunnel's.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> LocalParameters(int port, string dbUser, string? dbName) =>
    [
        new("host", "127.0.0.1"), new("port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("user", dbUser),
        .. DbNameParameter(dbName), new("sslmode", "disable"),
    ];

    private static IEnumerable<KeyValuePair<string, string>> DbNameParameter(string? dbName) =>
        dbName is null ? [] : [new("dbname", dbName)];

    /// <summary>A libpq connection string (key=value, values quoted when they must be: PostgreSQL documentation §34.1.1).</summary>
    public static string ConnectionString(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join(' ', parameters.Select(p => $"{p.Key}={Quote(p.Value)}"));

    /// <summary>A pg_service.conf entry (<c>psql service=NAME</c>).</summary>
    public static string ServiceEntry(string service, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var text = new StringBuilder($"[{service}]\n");
        foreach (var (key, value) in parameters) text.Append(key).Append('=').Append(value).Append('\n');
        return text.ToString();
    }

    /// <summary>mariadb/mysql arguments for a local port of <c>gatehouse proxy db</c>. TLS stays off: the connection to
    /// Gatehouse is encrypted already, and the proxy's greeting offers none; the client's password is not used.</summary>
    public static IReadOnlyList<string> MySqlArguments(int port, string dbUser, string? dbName) =>
    [
        "--host=127.0.0.1", $"--port={port.ToString(System.Globalization.CultureInfo.InvariantCulture)}", $"--user={dbUser}",
        .. dbName is null ? Array.Empty<string>() : [$"--database={dbName}"],
    ];

    /// <summary>The local port <c>gatehouse db config</c> suggests for a MySQL database.</summary>
    public const int SuggestedMySqlPort = 3307;

    /// <summary>An option-file block (<c>~/.my.cnf</c>) for a MySQL database through the local proxy it names.</summary>
    public static string OptionFileEntry(DatabaseListing database, ProxyAddress proxy, string dbUser, string? dbName)
    {
        var group = $"client-gatehouse-{database.Name}";
        var text = new StringBuilder($"""
            # Database '{database.Name}' through {proxy}: MySQL's server speaks first, so its clients reach it through the local
            # proxy, which carries the TLS and your Gatehouse certificate (no password, no client TLS). Keep it running:
            #   gatehouse proxy db {database.Name} --port {SuggestedMySqlPort}
            # then put this in ~/.my.cnf and connect with: mariadb --defaults-group-suffix=-gatehouse-{database.Name}
            [{group}]
            host=127.0.0.1
            port={SuggestedMySqlPort}
            user={dbUser}

            """);
        if (dbName is not null) text.Append("database=").Append(dbName).Append('\n');
        return text.ToString();
    }

    private static string Quote(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '\'' or '\\') ? value
            : "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}
