using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Proxy.Resources;

/// <summary>How the proxy speaks TLS to a database (resources.databases[].tls.mode), in libpq's words.</summary>
internal enum UpstreamTlsMode
{
    /// <summary>TLS; the server's certificate must chain to ca_file and name the host (libpq <c>verify-full</c>).</summary>
    VerifyFull,

    /// <summary>TLS without checking the server's certificate (libpq <c>require</c>): only for a network you trust.</summary>
    Require,

    /// <summary>No TLS: only with password authentication, only for a network you trust.</summary>
    Disable,
}

/// <param name="Roots">For <see cref="UpstreamTlsMode.VerifyFull"/>: the CAs the server's certificate must chain to.</param>
/// <param name="ServerName">The name the server's certificate must carry (and the SNI sent); null: the host of addr.</param>
internal sealed record DatabaseTls(UpstreamTlsMode Mode, X509Certificate2Collection Roots, string? ServerName);

/// <summary>How the proxy logs in to a database for a user (resources.databases[].auth).</summary>
internal abstract record DatabaseAuth;

/// <summary>
/// The database trusts the cluster's db client CA: for each session the proxy presents a short-lived certificate whose
/// CN is the database user (pg_hba <c>hostssl … cert</c>). No password is stored anywhere.
/// </summary>
internal sealed record CertificateDatabaseAuth : DatabaseAuth;

/// <summary>The proxy logs in as one configured user with a password (SCRAM-SHA-256 for PostgreSQL; caching_sha2_password or mysql_native_password for MySQL), for managed
/// databases that cannot trust a CA; a session may then only ask for that user.</summary>
/// <param name="ReadPassword">Reads the password when a session logs in (a file is re-read, so it may be rotated).</param>
internal sealed record PasswordDatabaseAuth(string User, Func<string> ReadPassword) : DatabaseAuth;

/// <summary>A database reached through <c>gatehouse-postgres</c> or <c>gatehouse-mysql</c> (resources.databases).</summary>
/// <param name="AuditQueries">Whether each statement is recorded as a <c>db.query</c> event.</param>
internal sealed record Database(string Name, string Protocol, string Host, int Port, IReadOnlyDictionary<string, string> Labels,
    DatabaseTls Tls, DatabaseAuth Auth, bool AuditQueries)
{
    public const string PostgresProtocol = "postgres", MySqlProtocol = "mysql";

    /// <summary>The protocols resources.databases[].protocol may name.</summary>
    public static readonly IReadOnlyList<string> Protocols = [PostgresProtocol, MySqlProtocol];

    public string Address => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>The audit resource name.</summary>
    public string Resource => $"db:{Name}";
}
