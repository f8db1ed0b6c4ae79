using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Access.Users;
using Gatehouse.Audit;
using Gatehouse.Pki;
using Gatehouse.Pki.Ssh;
using Gatehouse.Storage;

namespace Gatehouse.Access.Login;

/// <param name="PublicKeyPem">The client's public key (SubjectPublicKeyInfo PEM): the X.509 and the OpenSSH certificate
/// are both issued for it. The private key never leaves the client.</param>
internal sealed record LoginRequest(string User, string Password, string? Totp, string PublicKeyPem, TimeSpan? RequestedTtl, IPAddress? SourceIp);

/// <summary>What every login checks: who, the password, the one-time code when the user has one, and where from (throttling
/// and audit).</summary>
internal sealed record LoginCredentials(string User, string Password, string? Totp, IPAddress? SourceIp);

internal enum LoginFailure { Unauthenticated, Locked, Forbidden, Throttled, BadRequest }

/// <param name="Notice">On success, what the user should know: the lifetime asked for was cut, and by what.</param>
internal sealed record LoginResult(LoginFailure? Failure, string Message, X509Certificate2? Certificate = null, OpenSshCertificate? SshCertificate = null,
    Identity.Identity? Identity = null, DateTimeOffset? Expires = null, string? Notice = null)
{
    public bool Ok => Failure is null;
}

/// <summary>
/// Password (+ TOTP) login: checks the user, throttles guessing per user (in the store, so all proxies agree) and
/// per source address, and issues short-lived certificates whose rights come from the user's roles. Every outcome
/// is audited before it is answered.
/// </summary>
/// <param name="clusterName">Goes into web sessions' identities (a certificate carries it in its subject).</param>
internal sealed class LoginService(IStore store, UserService users, CertificateIssuer issuer, AuditLog audit, string clusterName, TimeProvider time,
    TimeSpan defaultTtl)
{
    public const int MaxFailuresPerUser = 5, MaxFailuresPerAddress = 20;
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(15);
    private const string Unauthenticated = "invalid user name, password or one-time code";
    private const string ReplayedCode = "the one-time code was right but used already (a replay, RFC 6238 §5.2)";
    /// <summary>The audit's identity_source for each kind of login.</summary>
    public const string CertificateSource = "login", WebSessionSource = "web-session";

    private readonly AddressThrottle _addresses = new(MaxFailuresPerAddress, FailureWindow, AddressThrottle.DefaultMaxAddresses, time);

    public async ValueTask<LoginResult> LoginAsync(LoginRequest request, CancellationToken cancellationToken)
    {
        var credentials = new LoginCredentials(request.User, request.Password, request.Totp, request.SourceIp);
        if (!TryReadPublicKey(request.PublicKeyPem, out var publicKey, out var keyProblem))
            return await AuditedAsync(credentials, CertificateSource, new LoginResult(LoginFailure.BadRequest, keyProblem), null, cancellationToken);
        using var sshKey = publicKey.GetECDsaPublicKey() as AsymmetricAlgorithm ?? publicKey.GetRSAPublicKey()!;

        var check = await CheckCredentialsAsync(credentials, request.RequestedTtl, CertificateSource, cancellationToken);
        if (check.Refusal is { } refusal) return refusal;
        var identity = check.Identity! with { IssuedVia = "login" };
        var certificate = await issuer.IssueUserAsync(identity, publicKey, check.Ttl, cancellationToken);
        var ssh = await issuer.IssueSshUserAsync(identity, sshKey, check.Ttl, cancellationToken);
        var until = $"logged in until {certificate.NotAfter.ToUniversalTime():u}";
        return await AuditedAsync(credentials, CertificateSource, new LoginResult(null, check.Notice is null ? until : $"{until} ({check.Notice})",
            certificate, ssh, identity, certificate.NotAfter.ToUniversalTime(), check.Notice), null, cancellationToken);
    }

    /// <summary>
    /// A browser sign-in (no key, no certificate): the same checks as <see cref="LoginAsync"/>, audited with identity source
    /// <see cref="WebSessionSource"/>; on success the identity and the session's end (the roles' max_session_ttl capped by the
    /// default certificate lifetime and the cluster's ceiling, pki.max_user_cert_ttl). <paramref name="sessionId"/> goes into
    /// the audit so decisions can be traced to it.
    /// </summary>
    public async ValueTask<LoginResult> WebLoginAsync(LoginCredentials credentials, string sessionId, CancellationToken cancellationToken)
    {
        var check = await CheckCredentialsAsync(credentials, null, WebSessionSource, cancellationToken);
        if (check.Refusal is { } refusal) return refusal;
        var now = time.GetUtcNow();
        var identity = check.Identity! with { IssuedVia = WebSessionSource, Cluster = clusterName, IssuedAt = now };
        var expires = now + check.Ttl;
        return await AuditedAsync(credentials, WebSessionSource, new LoginResult(null, $"signed in until {expires:u}", Identity: identity, Expires: expires),
            new Dictionary<string, string> { ["session"] = sessionId, ["expires"] = expires.ToString("u", System.Globalization.CultureInfo.InvariantCulture) },
            cancellationToken);
    }

    /// <summary>
    /// The one credential check behind every login: address and per-user throttles, password (against a decoy hash for
    /// unknown users), one-time code, lock, roles. A refusal comes back audited; success returns the identity the roles
    /// give and the lifetime (<see cref="Lifetime"/>), not yet audited — the caller audits once it has made what the login
    /// is for.
    /// </summary>
    private async ValueTask<CredentialCheck> CheckCredentialsAsync(LoginCredentials credentials, TimeSpan? requestedTtl, string source,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // 1. The attempt is counted before any work — per address, and per user once the user is known — and settled when
        //    the answer is: concurrent guesses cannot outrun the limits while their passwords hash (issue 11). Until the
        //    answer says otherwise it is a failure, so one cut short by an error stays counted.
        var address = credentials.SourceIp;
        if (address is not null && !_addresses.TryReserve(address))
            return await RefusedAsync(LoginFailure.Throttled, $"too many failed logins from {address}; try again in {FailureWindow.TotalMinutes:0} minutes");
        var outcome = LoginAttemptOutcome.Failed;
        StoredUser? user = null;
        string? userAttempt = null;
        try
        {
            user = await store.GetUserAsync(credentials.User, cancellationToken);
            if (user is not null
                && (userAttempt = await store.TryReserveLoginAttemptAsync(user.Name, now, now - FailureWindow, MaxFailuresPerUser, cancellationToken)) is null)
            {
                outcome = LoginAttemptOutcome.Released; // nothing was checked, so the address is not charged for it
                return await RefusedAsync(LoginFailure.Throttled,
                    $"too many failed logins for this user; try again in {FailureWindow.TotalMinutes:0} minutes or ask an administrator to unlock it");
            }

            // 2. The password check runs for unknown users too (against a decoy hash): same answer, same time.
            var passwordOk = PasswordHasher.Verify(credentials.Password, user?.PasswordHash);
            long totpStep = 0;
            var totpOk = user?.SealedTotpSecret is null || Totp.Verify(users.OpenTotpSecret(user)!, credentials.Totp, now, out totpStep);
            // RFC 6238 §5.2: a code is accepted once. Marked used only behind the right password, so a wrong guess cannot spend
            // the user's code; a replay gets the wrong code's answer, and only the audit says which it was.
            var replayed = user?.SealedTotpSecret is not null && passwordOk && totpOk
                && !await store.TryUseTotpStepAsync(user.Name, totpStep, Totp.OldestRememberedStep(now), cancellationToken);
            if (user is null || !passwordOk || !totpOk || replayed)
                return await RefusedAsync(LoginFailure.Unauthenticated, Unauthenticated, replayed ? ReplayedCode : null);

            // 3. Only someone who knows the password learns that the account is locked; that was no guess, so it does not count.
            if (user.Locked)
            {
                outcome = LoginAttemptOutcome.Released;
                return await RefusedAsync(LoginFailure.Locked, "this account is locked; ask an administrator to unlock it");
            }
            outcome = LoginAttemptOutcome.Succeeded; // the user's failures are forgotten, as after an unlock

            // 4. Rights come from the roles, and so does the lifetime, within the cluster's ceiling.
            var rights = await UserRights.ResolveAsync(store, user, cancellationToken);
            if (rights.Error is { } roleProblem) return await RefusedAsync(LoginFailure.Forbidden, roleProblem);
            var (ttl, notice) = Lifetime(requestedTtl, rights.MaxSessionTtl);
            return new CredentialCheck(null, rights.Identity with { PinnedIp = null }, ttl, notice);
        }
        finally
        {
            if (address is not null) _addresses.Settle(address, failed: outcome == LoginAttemptOutcome.Failed);
            // Not the request's token: a client that hangs up must not leave its attempt in progress.
            if (userAttempt is not null) await store.SettleLoginAttemptAsync(user!.Name, userAttempt, outcome, CancellationToken.None);
        }

        async ValueTask<CredentialCheck> RefusedAsync(LoginFailure failure, string message, string? auditReason = null) =>
            new(await AuditedAsync(credentials, source, new LoginResult(failure, message), null, cancellationToken, auditReason), null, default);
    }

    /// <param name="auditReason">What the audit says instead of the answer's message, when the answer must say less
    /// (a replayed one-time code is answered as a wrong one).</param>
    private async ValueTask<LoginResult> AuditedAsync(LoginCredentials credentials, string source, LoginResult result, Dictionary<string, string>? details,
        CancellationToken cancellationToken, string? auditReason = null)
    {
        var auditEvent = AuditLog.Event(result.Ok ? AuditEventTypes.Login : AuditEventTypes.LoginFailed, credentials.User) with
        {
            IdentitySource = source,
            SourceIp = credentials.SourceIp?.ToString(),
            Decision = result.Ok ? "allowed" : "denied",
            Reason = result.Ok ? result.Message : $"{result.Failure}: {auditReason ?? result.Message}",
        };
        if (result.Identity is { } identity && result.Ok)
        {
            details ??= [];
            details["roles"] = string.Join(",", identity.Roles);
            auditEvent = auditEvent with { Details = details };
        }
        if (result.Certificate is { } certificate)
            auditEvent = auditEvent with
            {
                CertificateIssuer = certificate.Issuer,
                CertificateSerial = SerialNumbers.Of(certificate),
                CertificateSha256 = Convert.ToHexString(SHA256.HashData(certificate.RawData)),
            };
        await audit.RecordAsync(auditEvent, cancellationToken);
        return result;
    }

    private sealed record CredentialCheck(LoginResult? Refusal, Identity.Identity? Identity, TimeSpan Ttl, string? Notice = null);

    /// <summary>
    /// What was asked (or the default), capped by the roles' max_session_ttl and by the cluster's ceiling,
    /// pki.max_user_cert_ttl (issue 11: without a role setting one, a year could be asked for and got). Asking for more is
    /// not an error: the answer is the capped lifetime, and a notice naming what capped it.
    /// </summary>
    private (TimeSpan Ttl, string? Notice) Lifetime(TimeSpan? requested, TimeSpan? rolesMax)
    {
        var ttl = requested ?? defaultTtl;
        string? cappedBy = null;
        if (rolesMax is { } max && ttl > max) (ttl, cappedBy) = (max, "the roles' max_session_ttl");
        if (ttl > issuer.MaxUserTtl) (ttl, cappedBy) = (issuer.MaxUserTtl, "the cluster's ceiling, pki.max_user_cert_ttl");
        return (ttl, requested is not null && cappedBy is not null ? $"the lifetime asked for is above {cappedBy}: {Durations.Format(ttl)} instead" : null);
    }

    internal static bool TryReadPublicKey(string pem, out PublicKey key, out string problem)
    {
        key = null!;
        problem = "public_key must be a PEM 'PUBLIC KEY' (SubjectPublicKeyInfo) of an ECDSA P-256/384/521 or RSA 2048–8192 key";
        try
        {
            var fields = PemEncoding.Find(pem);
            if (pem[fields.Label] is not "PUBLIC KEY") return false;
            key = PublicKey.CreateFromSubjectPublicKeyInfo(Convert.FromBase64String(pem[fields.Base64Data]), out _);
            // Inside the try: the key is imported only here, where a point off its curve or a curve the platform does
            // not know throws (both found by fuzzing, issue 18).
            using var ec = key.GetECDsaPublicKey();
            using var rsa = ec is null ? key.GetRSAPublicKey() : null;
            return ec is { KeySize: 256 or 384 or 521 } || rsa is { KeySize: >= 2048 and <= 8192 };
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or FormatException or PlatformNotSupportedException)
        {
            return false;
        }
    }
}
