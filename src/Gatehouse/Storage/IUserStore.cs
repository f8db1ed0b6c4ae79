namespace Gatehouse.Storage;

/// <summary>A local user as stored. Secrets are never in clear: the password as a PHC-style hash, the TOTP secret sealed.</summary>
internal sealed record StoredUser(
    string Name,
    IReadOnlyList<string> Roles,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Traits,
    string? PasswordHash,
    byte[]? SealedTotpSecret,
    bool Locked,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

internal interface IUserStore
{
    ValueTask<StoredUser?> GetUserAsync(string name, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<StoredUser>> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary>False when a user of that name exists (nothing is changed).</summary>
    ValueTask<bool> AddUserAsync(StoredUser user, CancellationToken cancellationToken);

    /// <summary>Replaces the user's record; false when there is no such user.</summary>
    ValueTask<bool> UpdateUserAsync(StoredUser user, CancellationToken cancellationToken);

    ValueTask<bool> DeleteUserAsync(string name, CancellationToken cancellationToken);

    /// <summary>Failed logins are counted in the store so that every proxy of a cluster throttles the same user.</summary>
    ValueTask RecordLoginFailureAsync(string user, DateTimeOffset at, CancellationToken cancellationToken);

    ValueTask<int> CountLoginFailuresAsync(string user, DateTimeOffset since, CancellationToken cancellationToken);

    ValueTask ClearLoginFailuresAsync(string user, CancellationToken cancellationToken);

    /// <summary>
    /// Remembers that <paramref name="user"/>'s one-time code of TOTP time step <paramref name="step"/> was accepted;
    /// false when it had been already — a replay (RFC 6238 §5.2). One atomic insert-if-absent, so two proxies given the
    /// same code at the same moment cannot both accept it. Steps before <paramref name="forgetBefore"/> are forgotten on the way.
    /// </summary>
    ValueTask<bool> TryUseTotpStepAsync(string user, long step, long forgetBefore, CancellationToken cancellationToken);
}
