namespace Gatehouse.Storage;

/// <summary>Where the certificate authorities live. Implementations must be safe for several proxies sharing one store.</summary>
internal interface IAuthorityStore
{
    ValueTask<StoredAuthority?> GetAuthorityAsync(string kind, CancellationToken cancellationToken);

    /// <summary>Stores the authority unless one of that kind exists; returns the one that is stored (ours, or one a
    /// concurrent first start stored before us), so every proxy ends up with the same CA.</summary>
    ValueTask<StoredAuthority> AddAuthorityIfAbsentAsync(StoredAuthority authority, CancellationToken cancellationToken);
}
