using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Access.Users;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.Pki;
using Gatehouse.Pki.Ssh;

namespace Gatehouse.Access.Login;

/// <param name="PublicKeyPem">The client's public key (SubjectPublicKeyInfo PEM): the X.509 and the OpenSSH certificate
/// are both issued for it. The private key never leaves the client.</param>
internal sealed record LoginRequest(string User, string Password, string? Totp, string PublicKeyPem, TimeSpan? RequestedTtl, IPAddress? SourceIp);

internal enum LoginFailure { Unauthenticated, Locked, Forbidden, Throttled, BadRequest }

internal sealed record LoginResult(LoginFailure? Failure, string Message, X509Certificate2? Certificate = null, OpenSshCertificate? SshCertificate = null,
    Identity.Identity? Identity = null)
{
    public bool Ok => Failure is null;
}

/// <summary>
/// Password (+ TOTP) login: checks the user, throttles guessing per user (in the store, so all proxies agree) and
/// per source address, and issues short-lived certificates whose rights come from the user's roles. Every outcome
/// is audited before it is answered.
/// </summary>
internal sealed class LoginService(ClusterState cluster, TimeSpan defaultTtl)
{
    public const int MaxFailuresPerUser = 5, MaxFailuresPerAddress = 20;
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(15);
    private const string Unauthenticated = "invalid user name, password or one-time code";

    private readonly ConcurrentDictionary<IPAddress, Queue<DateTimeOffset>> _failuresByAddress = new();

    public async ValueTask<LoginResult> LoginAsync(LoginRequest request, CancellationToken cancellationToken)
    {
        var now = cluster.Time.GetUtcNow();
        if (!TryReadPublicKey(request.PublicKeyPem, out var publicKey, out var keyProblem))
            return await AuditedAsync(request, new LoginResult(LoginFailure.BadRequest, keyProblem), cancellationToken);
        using var sshKey = publicKey.GetECDsaPublicKey() as AsymmetricAlgorithm ?? publicKey.GetRSAPublicKey()!;
        if (request.SourceIp is { } address && RecentFailures(address, now) >= MaxFailuresPerAddress)
            return await AuditedAsync(request, new LoginResult(LoginFailure.Throttled,
                $"too many failed logins from {address}; try again in {FailureWindow.TotalMinutes:0} minutes"), cancellationToken);

        // 1. The password check runs for unknown users too (against a decoy hash): same answer, same time.
        var user = await cluster.Store.GetUserAsync(request.User, cancellationToken);
        var passwordOk = PasswordHasher.Verify(request.Password, user?.PasswordHash);
        if (user is not null && await cluster.Store.CountLoginFailuresAsync(user.Name, now - FailureWindow, cancellationToken) >= MaxFailuresPerUser)
            return await AuditedAsync(request, new LoginResult(LoginFailure.Throttled,
                $"too many failed logins for this user; try again in {FailureWindow.TotalMinutes:0} minutes or ask an administrator to unlock it"), cancellationToken);
        var totpOk = user?.SealedTotpSecret is null || Totp.Verify(cluster.Users.OpenTotpSecret(user)!, request.Totp, now);
        if (user is null || !passwordOk || !totpOk)
        {
            if (user is not null) await cluster.Store.RecordLoginFailureAsync(user.Name, now, cancellationToken);
            if (request.SourceIp is { } failedFrom) RecordFailure(failedFrom, now);
            return await AuditedAsync(request, new LoginResult(LoginFailure.Unauthenticated, Unauthenticated), cancellationToken);
        }
        // 2. Only someone who knows the password learns that the account is locked.
        if (user.Locked)
            return await AuditedAsync(request, new LoginResult(LoginFailure.Locked, "this account is locked; ask an administrator to unlock it"), cancellationToken);
        await cluster.Store.ClearLoginFailuresAsync(user.Name, cancellationToken);

        // 3. Rights and lifetime come from the roles.
        var rights = await UserRights.ResolveAsync(cluster.Store, user, cancellationToken);
        if (rights.Error is { } roleProblem)
            return await AuditedAsync(request, new LoginResult(LoginFailure.Forbidden, roleProblem), cancellationToken);
        var ttl = request.RequestedTtl ?? defaultTtl;
        if (rights.MaxSessionTtl is { } max && ttl > max) ttl = max;
        var identity = rights.Identity with { IssuedVia = "login", PinnedIp = null };
        var certificate = await cluster.Issuer.IssueUserAsync(identity, publicKey, ttl, cancellationToken);
        var ssh = await cluster.Issuer.IssueSshUserAsync(identity, sshKey, ttl, cancellationToken);
        return await AuditedAsync(request, new LoginResult(null, $"logged in until {certificate.NotAfter.ToUniversalTime():u}", certificate, ssh, identity),
            cancellationToken);
    }

    private async ValueTask<LoginResult> AuditedAsync(LoginRequest request, LoginResult result, CancellationToken cancellationToken)
    {
        var auditEvent = AuditLog.Event(result.Ok ? AuditEventTypes.Login : AuditEventTypes.LoginFailed, request.User) with
        {
            IdentitySource = "login",
            SourceIp = request.SourceIp?.ToString(),
            Decision = result.Ok ? "allowed" : "denied",
            Reason = result.Ok ? result.Message : $"{result.Failure}: {result.Message}",
        };
        if (result.Certificate is { } certificate)
            auditEvent = auditEvent with
            {
                CertificateIssuer = certificate.Issuer,
                CertificateSerial = SerialNumbers.Of(certificate),
                CertificateSha256 = Convert.ToHexString(SHA256.HashData(certificate.RawData)),
                Details = new Dictionary<string, string> { ["roles"] = string.Join(",", result.Identity!.Roles) },
            };
        await cluster.Audit.RecordAsync(auditEvent, cancellationToken);
        return result;
    }

    private int RecentFailures(IPAddress address, DateTimeOffset now)
    {
        if (!_failuresByAddress.TryGetValue(address, out var failures)) return 0;
        lock (failures)
        {
            while (failures.Count > 0 && failures.Peek() < now - FailureWindow) failures.Dequeue();
            return failures.Count;
        }
    }

    private void RecordFailure(IPAddress address, DateTimeOffset now)
    {
        var failures = _failuresByAddress.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
        lock (failures) failures.Enqueue(now);
    }

    private static bool TryReadPublicKey(string pem, out PublicKey key, out string problem)
    {
        key = null!;
        problem = "public_key must be a PEM 'PUBLIC KEY' (SubjectPublicKeyInfo) of an ECDSA P-256/384/521 or RSA 2048–8192 key";
        try
        {
            var fields = PemEncoding.Find(pem);
            if (pem[fields.Label] is not "PUBLIC KEY") return false;
            key = PublicKey.CreateFromSubjectPublicKeyInfo(Convert.FromBase64String(pem[fields.Base64Data]), out _);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or FormatException)
        {
            return false;
        }
        using var ec = key.GetECDsaPublicKey();
        using var rsa = ec is null ? key.GetRSAPublicKey() : null;
        return ec is { KeySize: 256 or 384 or 521 } || rsa is { KeySize: >= 2048 and <= 8192 };
    }
}
