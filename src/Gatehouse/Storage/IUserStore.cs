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

/// <summary>How a reserved login attempt ended.</summary>
internal enum LoginAttemptOutcome
{
    /// <summary>A wrong guess: it stays counted as a failure until the window passes.</summary>
    Failed,

    /// <summary>Not a guess (the right password for a locked account): it stops counting.</summary>
    Released,

    /// <summary>The user logged in: it and the user's earlier failures stop counting; other attempts still in progress do not.</summary>
    Succeeded,
}

internal interface IUserStore
{
    ValueTask<StoredUser?> GetUserAsync(string name, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<StoredUser>> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary>False when a user of that name exists (nothing is changed).</summary>
    ValueTask<bool> AddUserAsync(StoredUser user, CancellationToken cancellationToken);

    /// <summary>Replaces the user's record; false when there is no such user.</summary>
    ValueTask<bool> UpdateUserAsync(StoredUser user, CancellationToken cancellationToken);

    ValueTask<bool> DeleteUserAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Counts a login attempt for <paramref name="user"/> from the moment it starts (issue 11): atomically, when fewer than
    /// <paramref name="limit"/> failures and attempts in progress are counted since <paramref name="since"/>, one more is
    /// added at <paramref name="at"/> and its id returned; else null (throttled) and nothing is added. Failed logins are
    /// counted in the store so that every proxy of a cluster throttles the same user, and counted before the password is
    /// checked so that concurrent guesses cannot outrun the limit. Every reservation must be settled
    /// (<see cref="SettleLoginAttemptAsync"/>); one that never is keeps counting as a failure until the window passes.
    /// </summary>
    ValueTask<string?> TryReserveLoginAttemptAsync(string user, DateTimeOffset at, DateTimeOffset since, int limit, CancellationToken cancellationToken);

    ValueTask SettleLoginAttemptAsync(string user, string attempt, LoginAttemptOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Failures and attempts in progress since <paramref name="since"/>.</summary>
    ValueTask<int> CountLoginFailuresAsync(string user, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>Forgets every failure and attempt of the user (an administrator unlocked it or set a new password).</summary>
    ValueTask ClearLoginFailuresAsync(string user, CancellationToken cancellationToken);

    /// <summary>
    /// Remembers that <paramref name="user"/>'s one-time code of TOTP time step <paramref name="step"/> was accepted;
    /// false when it had been already — a replay (RFC 6238 §5.2). One atomic insert-if-absent, so two proxies given the
    /// same code at the same moment cannot both accept it. Steps before <paramref name="forgetBefore"/> are forgotten on the way.
    /// </summary>
    ValueTask<bool> TryUseTotpStepAsync(string user, long step, long forgetBefore, CancellationToken cancellationToken);
}
