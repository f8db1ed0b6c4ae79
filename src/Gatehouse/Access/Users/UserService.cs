using Gatehouse.Pki;
using Gatehouse.Storage;

namespace Gatehouse.Access.Users;

/// <summary>The outcome of a user administration step: done or refused, in a sentence; a new TOTP enrolment when one was made.</summary>
internal sealed record UserOutcome(bool Ok, string Message, string? TotpUri = null)
{
    public static UserOutcome Refused(string message) => new(false, message);
}

/// <summary>Local users: their password hashes, sealed TOTP secrets, roles, traits and lock state.</summary>
internal sealed class UserService(IStore store, MasterKey masterKey, TimeProvider time, string clusterName)
{
    public const int MinimumPasswordLength = 12;
    private const string TotpPurpose = "gatehouse-totp";

    /// <summary>Null when the password is long enough, else why not. (User names: <see cref="Identity.UserNames"/>; a name
    /// becomes a certificate CN and an SSH key id.)</summary>
    public static string? CheckPassword(string password) =>
        password.Length < MinimumPasswordLength ? $"the password is too short: use at least {MinimumPasswordLength} characters" : null;

    public async ValueTask<UserOutcome> AddAsync(string name, IReadOnlyList<string> roles, IReadOnlyDictionary<string, IReadOnlyList<string>> traits,
        string? password, bool withTotp, CancellationToken cancellationToken)
    {
        if (Identity.UserNames.Check(name) is { } badName) return UserOutcome.Refused(badName);
        if (password is not null && CheckPassword(password) is { } badPassword) return UserOutcome.Refused(badPassword);
        if (await MissingRolesAsync(roles, cancellationToken) is { } missing) return UserOutcome.Refused(missing);
        var secret = withTotp ? Totp.NewSecret() : null;
        var now = time.GetUtcNow();
        var user = new StoredUser(name, roles, traits, password is null ? null : PasswordHasher.Hash(password),
            secret is null ? null : masterKey.Seal(secret, TotpPurpose), false, now, now);
        if (!await store.AddUserAsync(user, cancellationToken))
            return UserOutcome.Refused($"user '{name}' exists already; change it with `gatehouse admin users` verbs or remove it first");
        var how = password is null ? "without a password (certificates only until one is set)" : "with a password";
        return new UserOutcome(true, $"added user '{name}' {how}, roles: {(roles.Count == 0 ? "none" : string.Join(", ", roles))}",
            secret is null ? null : Totp.Uri(secret, $"Gatehouse {clusterName}", name));
    }

    public async ValueTask<UserOutcome> RemoveAsync(string name, CancellationToken cancellationToken) =>
        await store.DeleteUserAsync(name, cancellationToken)
            ? new UserOutcome(true, $"removed user '{name}'; certificates issued to it stay valid until they expire unless revoked")
            : UserOutcome.Refused($"there is no user '{name}'");

    public ValueTask<UserOutcome> SetLockedAsync(string name, bool locked, CancellationToken cancellationToken) =>
        UpdateAsync(name, user => user with { Locked = locked }, locked ? $"locked '{name}': it cannot log in" : $"unlocked '{name}'",
            cancellationToken, clearFailures: !locked);

    public async ValueTask<UserOutcome> ResetPasswordAsync(string name, string password, CancellationToken cancellationToken) =>
        CheckPassword(password) is { } bad
            ? UserOutcome.Refused(bad)
            : await UpdateAsync(name, user => user with { PasswordHash = PasswordHasher.Hash(password) }, $"set a new password for '{name}'",
                cancellationToken, clearFailures: true);

    /// <summary>The user's TOTP secret, opened; null when the user has none.</summary>
    public byte[]? OpenTotpSecret(StoredUser user)
    {
        if (user.SealedTotpSecret is null) return null;
        return masterKey.TryUnseal(user.SealedTotpSecret, TotpPurpose, out var secret, out var error)
            ? secret
            : throw new SetupException($"the TOTP secret of user '{user.Name}' cannot be opened: {error}");
    }

    private async ValueTask<UserOutcome> UpdateAsync(string name, Func<StoredUser, StoredUser> change, string done, CancellationToken cancellationToken,
        bool clearFailures = false)
    {
        var user = await store.GetUserAsync(name, cancellationToken);
        if (user is null) return UserOutcome.Refused($"there is no user '{name}'");
        if (!await store.UpdateUserAsync(change(user) with { UpdatedAt = time.GetUtcNow() }, cancellationToken))
            return UserOutcome.Refused($"user '{name}' was removed meanwhile");
        if (clearFailures) await store.ClearLoginFailuresAsync(name, cancellationToken);
        return new UserOutcome(true, done);
    }

    private async ValueTask<string?> MissingRolesAsync(IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (var role in roles)
            if (await store.GetRoleAsync(role, cancellationToken) is null)
                missing.Add(role);
        return missing.Count == 0 ? null
            : $"no role named {string.Join(", ", missing.Select(r => $"'{r}'"))}; apply it first with `gatehouse admin roles apply FILE`";
    }
}
