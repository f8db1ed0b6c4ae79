namespace Gatehouse.Storage;

/// <summary>Everything a Gatehouse cluster keeps. SQLite (one proxy) and PostgreSQL (several) implement it alike.</summary>
internal interface IStore : IAuthorityStore, ICertificateLedger, IUserStore, IRoleStore, IAuditStore, IChangeFeed, IAsyncDisposable
{
    /// <summary>For messages: "SQLite /path/gatehouse.db" or "PostgreSQL host:port/db" (never a password).</summary>
    string Description { get; }
}
