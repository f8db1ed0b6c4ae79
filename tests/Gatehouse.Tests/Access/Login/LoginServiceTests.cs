using System.Net;
using System.Security.Cryptography;
using Gatehouse.Access.Login;
using Gatehouse.Access.Users;
using Gatehouse.Audit;
using Gatehouse.Identity;
using Gatehouse.Storage;
using Gatehouse.Testing;
using Gatehouse.Tests.Pki;

namespace Gatehouse.Tests.Access.Login;

public sealed class LoginServiceTests : IAsyncLifetime
{
    private const string Password = "a long enough password";
    private static readonly IPAddress From = IPAddress.Parse("192.0.2.10");
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private Gatehouse.Cluster.ClusterState _cluster = null!;
    private LoginService _logins = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.OpenAsync(_dir.Path, _time);
        await _cluster.Store.UpsertRolesAsync(
        [
            new StoredRole("dev", "kind: role\nname: dev\nallow:\n  logins: ['{{internal.logins}}', ubuntu]\n  kube_groups: [developers]\noptions: { max_session_ttl: 2h }\n", _time.GetUtcNow()),
            new StoredRole("ops", "kind: role\nname: ops\nallow:\n  logins: [root]\n", _time.GetUtcNow()),
        ], CancellationToken.None);
        var traits = new Dictionary<string, IReadOnlyList<string>> { ["logins"] = ["alice"] };
        await _cluster.Users.AddAsync("alice", ["dev", "ops"], traits, Password, withTotp: false, CancellationToken.None);
        _logins = _cluster.CreateLoginService(TimeSpan.FromHours(12));
    }

    private Task<LoginResult> LoginAsync(string user, string password, string? totp = null, TimeSpan? ttl = null, IPAddress? from = null) =>
        _logins.LoginAsync(new LoginRequest(user, password, totp, _key.ExportSubjectPublicKeyInfoPem(), ttl, from ?? From), CancellationToken.None).AsTask();

    [Fact]
    public async Task Right_password_gets_certificates_with_the_roles_rights_and_capped_ttl()
    {
        var result = await LoginAsync("alice", Password, ttl: TimeSpan.FromHours(8));
        Assert.True(result.Ok, result.Message);
        using var certificate = result.Certificate!;
        Assert.True(IdentityExtension.TryDecode(certificate, out var identity, out _));
        Assert.Equal(["dev", "ops"], identity.Roles);
        Assert.Equal(["alice", "root", "ubuntu"], identity.Logins.Order());
        Assert.Equal(["developers"], identity.KubeGroups);
        Assert.Equal("login", identity.IssuedVia);
        Assert.Equal(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1), certificate.NotAfter - certificate.NotBefore); // max_session_ttl of dev
        Assert.Contains("max_session_ttl", result.Notice);
        Assert.Equal(_key.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(identity.Logins.Order(), result.SshCertificate!.Principals.Order());
        Assert.True(_cluster.Validator.Validate(certificate).IsValid);

        var audit = await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.Login), CancellationToken.None);
        var entry = Assert.Single(audit);
        Assert.Equal("alice", entry.User);
        Assert.Equal("192.0.2.10", entry.SourceIp);
        Assert.Equal(Gatehouse.Pki.SerialNumbers.Of(certificate), entry.CertificateSerial);
    }

    [Fact]
    public async Task Without_a_role_limit_a_year_asked_for_is_capped_at_the_clusters_ceiling_and_the_answer_says_so()
    {
        await _cluster.Users.AddAsync("olga", ["ops"], new Dictionary<string, IReadOnlyList<string>>(), Password, withTotp: false, CancellationToken.None);

        var result = await LoginAsync("olga", Password, ttl: TimeSpan.FromDays(366));

        Assert.True(result.Ok, result.Message);
        using var certificate = result.Certificate!;
        var ceiling = Gatehouse.Pki.CertificateIssuer.DefaultMaxUserTtl; // 12h
        Assert.Equal(ceiling + TimeSpan.FromMinutes(1), certificate.NotAfter - certificate.NotBefore);
        Assert.Equal(ceiling + TimeSpan.FromMinutes(1), result.SshCertificate!.ValidBefore - result.SshCertificate.ValidAfter);
        Assert.Contains("pki.max_user_cert_ttl", result.Notice);
        Assert.Contains("12h", result.Notice);
        var entry = Assert.Single(await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.Login, User: "olga"), CancellationToken.None));
        Assert.Contains("pki.max_user_cert_ttl", entry.Reason);

        // Within the ceiling nothing is cut and nothing is said.
        var asked = await LoginAsync("olga", Password, ttl: TimeSpan.FromHours(3));
        Assert.Null(asked.Notice);
        Assert.Equal(TimeSpan.FromHours(3) + TimeSpan.FromMinutes(1), asked.Certificate!.NotAfter - asked.Certificate.NotBefore);
        asked.Certificate.Dispose();
    }

    [Fact]
    public async Task A_lower_ceiling_caps_the_default_the_roles_and_web_sessions_too()
    {
        // The same cluster opened with pki.max_user_cert_ttl = 30m, below the 12h default and dev's 2h max_session_ttl.
        await using var capped = await TestCluster.OpenAsync(_dir.Path, _time, maxUserCertTtl: TimeSpan.FromMinutes(30));
        var logins = capped.CreateLoginService(TimeSpan.FromHours(12));

        var login = await logins.LoginAsync(new LoginRequest("alice", Password, null, _key.ExportSubjectPublicKeyInfoPem(), null, From), CancellationToken.None);
        var web = await logins.WebLoginAsync(new LoginCredentials("alice", Password, null, From), "session-2", CancellationToken.None);

        Assert.True(login.Ok, login.Message);
        Assert.Equal(TimeSpan.FromMinutes(31), login.Certificate!.NotAfter - login.Certificate.NotBefore);
        Assert.Equal(TimeSpan.FromMinutes(31), login.SshCertificate!.ValidBefore - login.SshCertificate.ValidAfter);
        login.Certificate.Dispose();
        Assert.True(web.Ok, web.Message);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(30), web.Expires);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_are_the_same_failure()
    {
        var wrong = await LoginAsync("alice", "not the password at all");
        var unknown = await LoginAsync("mallory", "not the password at all");
        Assert.Equal(LoginFailure.Unauthenticated, wrong.Failure);
        Assert.Equal(wrong.Failure, unknown.Failure);
        Assert.Equal(wrong.Message, unknown.Message);
        Assert.Null(wrong.Certificate);
        var failures = await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.LoginFailed), CancellationToken.None);
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.Equal("denied", f.Decision));
    }

    [Fact]
    public async Task Five_failures_throttle_the_user_even_with_the_right_password_until_the_window_passes()
    {
        for (var i = 0; i < LoginService.MaxFailuresPerUser; i++)
            Assert.Equal(LoginFailure.Unauthenticated, (await LoginAsync("alice", "wrong password " + i, from: IPAddress.Parse($"198.51.100.{i}"))).Failure);
        var throttled = await LoginAsync("alice", Password);
        Assert.Equal(LoginFailure.Throttled, throttled.Failure);
        Assert.Contains("too many failed logins", throttled.Message);
        _time.Advance(LoginService.FailureWindow + TimeSpan.FromSeconds(1));
        Assert.True((await LoginAsync("alice", Password)).Ok);
    }

    [Fact]
    public async Task Many_failures_from_one_address_throttle_that_address_only()
    {
        for (var i = 0; i < LoginService.MaxFailuresPerAddress; i++)
            await LoginAsync($"nobody{i}", "whatever password");
        Assert.Equal(LoginFailure.Throttled, (await LoginAsync("alice", Password)).Failure);
        Assert.True((await LoginAsync("alice", Password, from: IPAddress.Parse("192.0.2.99"))).Ok);
    }

    [Fact]
    public async Task Forty_concurrent_bad_logins_from_one_address_get_at_most_the_limit_to_the_password_check()
    {
        var results = await AllAtOnceAsync(40, i => LoginAsync($"nobody{i}", "whatever password"));

        Assert.Equal(LoginService.MaxFailuresPerAddress, results.Count(r => r.Failure != LoginFailure.Throttled));
        Assert.All(results, r => Assert.Contains(r.Failure, new LoginFailure?[] { LoginFailure.Unauthenticated, LoginFailure.Throttled }));
        var audit = await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.LoginFailed), CancellationToken.None);
        Assert.Equal(LoginService.MaxFailuresPerAddress, audit.Count(e => e.Reason!.StartsWith("Unauthenticated:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Forty_concurrent_bad_logins_for_one_user_get_at_most_the_limit_to_the_password_check()
    {
        var results = await AllAtOnceAsync(40, i => LoginAsync("alice", "wrong password " + i, from: IPAddress.Parse($"198.51.100.{i}")));

        Assert.Equal(LoginService.MaxFailuresPerUser, results.Count(r => r.Failure != LoginFailure.Throttled));
        Assert.Equal(LoginFailure.Throttled, (await LoginAsync("alice", Password)).Failure);
    }

    [Fact]
    public async Task A_locked_account_with_the_right_password_and_a_success_do_not_count_as_failures()
    {
        await _cluster.Users.SetLockedAsync("alice", true, CancellationToken.None);
        for (var i = 0; i < LoginService.MaxFailuresPerUser + 1; i++)
            Assert.Equal(LoginFailure.Locked, (await LoginAsync("alice", Password)).Failure);
        await _cluster.Users.SetLockedAsync("alice", false, CancellationToken.None);

        for (var i = 0; i < LoginService.MaxFailuresPerUser - 1; i++)
            await LoginAsync("alice", "wrong password " + i);
        Assert.True((await LoginAsync("alice", Password)).Ok); // and forgets the four failures
        for (var i = 0; i < LoginService.MaxFailuresPerUser - 1; i++)
            await LoginAsync("alice", "wrong password again " + i);
        Assert.True((await LoginAsync("alice", Password)).Ok);
        Assert.Equal(0, await _cluster.Store.CountLoginFailuresAsync("alice", _time.GetUtcNow() - LoginService.FailureWindow, CancellationToken.None));
    }

    /// <summary>Starts every login on a thread of its own and lets them all go at once (the store's SQLite calls complete
    /// synchronously, so each login runs on its thread: truly concurrent, as requests on a busy proxy are).</summary>
    private static async Task<LoginResult[]> AllAtOnceAsync(int count, Func<int, Task<LoginResult>> login)
    {
        using var start = new Barrier(count);
        return await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return login(i).GetAwaiter().GetResult();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));
    }

    [Fact]
    public async Task Locked_is_told_only_to_someone_with_the_password()
    {
        await _cluster.Users.SetLockedAsync("alice", true, CancellationToken.None);
        Assert.Equal(LoginFailure.Unauthenticated, (await LoginAsync("alice", "wrong password!!")).Failure);
        var locked = await LoginAsync("alice", Password);
        Assert.Equal(LoginFailure.Locked, locked.Failure);
        Assert.Contains("locked", locked.Message);
    }

    [Fact]
    public async Task Totp_is_required_when_enrolled()
    {
        await _cluster.Users.AddAsync("bob", ["ops"], new Dictionary<string, IReadOnlyList<string>>(), Password, withTotp: true, CancellationToken.None);
        var secret = _cluster.Users.OpenTotpSecret((await _cluster.Store.GetUserAsync("bob", CancellationToken.None))!)!;
        Assert.Equal(LoginFailure.Unauthenticated, (await LoginAsync("bob", Password)).Failure);
        var right = Totp.Code(secret, _time.GetUtcNow());
        var wrong = (right[0] == '9' ? "0" : ((char)(right[0] + 1)).ToString()) + right[1..];
        Assert.Equal(LoginFailure.Unauthenticated, (await LoginAsync("bob", Password, totp: wrong)).Failure);
        Assert.True((await LoginAsync("bob", Password, totp: right)).Ok);
    }

    [Fact]
    public async Task A_one_time_code_is_accepted_once_and_a_replay_is_answered_like_a_wrong_code()
    {
        var secret = await AddTotpUserAsync("bob");
        var code = Totp.Code(secret, _time.GetUtcNow());
        var wrong = (code[0] == '9' ? "0" : ((char)(code[0] + 1)).ToString()) + code[1..];
        var wrongAnswer = await LoginAsync("bob", Password, totp: wrong);
        Assert.True((await LoginAsync("bob", Password, totp: code)).Ok);

        // The same code again, now and while it would still be in the window (one step of skew), through either login.
        var replay = await LoginAsync("bob", Password, totp: code);
        _time.Advance(Totp.Step);
        var webReplay = await WebLoginAsync("bob", Password, totp: code);

        foreach (var refused in new[] { replay, webReplay })
        {
            Assert.Equal(wrongAnswer.Failure, refused.Failure);
            Assert.Equal(wrongAnswer.Message, refused.Message);
            Assert.Null(refused.Certificate);
        }
        var reasons = (await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.LoginFailed, User: "bob"), CancellationToken.None))
            .Select(e => e.Reason!).ToList();
        Assert.Equal(3, reasons.Count);
        Assert.Single(reasons, r => !r.Contains("replay", StringComparison.Ordinal)); // the wrong code
        Assert.Equal(2, reasons.Count(r => r.StartsWith("Unauthenticated: ", StringComparison.Ordinal) && r.Contains("replay", StringComparison.Ordinal)));
        Assert.DoesNotContain("replay", replay.Message, StringComparison.Ordinal);

        // The next step's code is a new code.
        Assert.True((await LoginAsync("bob", Password, totp: Totp.Code(secret, _time.GetUtcNow()))).Ok);
    }

    [Fact]
    public async Task A_right_code_with_a_wrong_password_does_not_spend_the_code()
    {
        var secret = await AddTotpUserAsync("bob");
        var code = Totp.Code(secret, _time.GetUtcNow());

        Assert.Equal(LoginFailure.Unauthenticated, (await LoginAsync("bob", "not the password at all", totp: code)).Failure);
        Assert.True((await LoginAsync("bob", Password, totp: code)).Ok);
    }

    private async Task<byte[]> AddTotpUserAsync(string name)
    {
        await _cluster.Users.AddAsync(name, ["ops"], new Dictionary<string, IReadOnlyList<string>>(), Password, withTotp: true, CancellationToken.None);
        return _cluster.Users.OpenTotpSecret((await _cluster.Store.GetUserAsync(name, CancellationToken.None))!)!;
    }

    [Fact]
    public async Task A_role_that_vanished_refuses_the_login_with_a_reason()
    {
        await _cluster.Store.DeleteRoleAsync("ops", CancellationToken.None);
        var result = await LoginAsync("alice", Password);
        Assert.Equal(LoginFailure.Forbidden, result.Failure);
        Assert.Contains("role 'ops'", result.Message);
    }

    [Theory]
    [InlineData("not pem")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")]
    public async Task A_bad_public_key_is_a_bad_request(string pem)
    {
        var result = await _logins.LoginAsync(new LoginRequest("alice", Password, null, pem, null, From), CancellationToken.None);
        Assert.Equal(LoginFailure.BadRequest, result.Failure);
        Assert.Contains("PUBLIC KEY", result.Message);
    }

    [Fact]
    public async Task A_small_rsa_key_is_refused()
    {
        using var small = RSA.Create(1024);
        var result = await _logins.LoginAsync(new LoginRequest("alice", Password, null, small.ExportSubjectPublicKeyInfoPem(), null, From), CancellationToken.None);
        Assert.Equal(LoginFailure.BadRequest, result.Failure);
    }

    private Task<LoginResult> WebLoginAsync(string user, string password, string? totp = null, IPAddress? from = null) =>
        _logins.WebLoginAsync(new LoginCredentials(user, password, totp, from ?? From), "session-1", CancellationToken.None).AsTask();

    [Fact]
    public async Task A_web_login_gets_the_roles_identity_until_the_capped_ttl_audited_as_a_web_session()
    {
        var result = await WebLoginAsync("alice", Password);

        Assert.True(result.Ok, result.Message);
        Assert.Null(result.Certificate);
        var identity = result.Identity!;
        Assert.Equal(["dev", "ops"], identity.Roles);
        Assert.Equal(["alice", "root", "ubuntu"], identity.Logins.Order());
        Assert.Equal("web-session", identity.IssuedVia);
        Assert.Equal(_cluster.Authorities.ClusterName, identity.Cluster);
        Assert.Equal(_time.GetUtcNow(), identity.IssuedAt);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromHours(2), result.Expires); // dev's max_session_ttl under the 12h default
        var entry = Assert.Single(await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.Login), CancellationToken.None));
        Assert.Equal("web-session", entry.IdentitySource);
        Assert.Equal("session-1", entry.Details!["session"]);
        Assert.Null(entry.CertificateSerial);
    }

    [Fact]
    public async Task Web_and_certificate_logins_share_one_throttle_and_one_audit()
    {
        for (var i = 0; i < LoginService.MaxFailuresPerUser; i++)
            Assert.Equal(LoginFailure.Unauthenticated, (await WebLoginAsync("alice", "wrong password " + i, from: IPAddress.Parse($"198.51.100.{i}"))).Failure);

        Assert.Equal(LoginFailure.Throttled, (await LoginAsync("alice", Password)).Failure);
        Assert.Equal(LoginFailure.Throttled, (await WebLoginAsync("alice", Password)).Failure);
        var failures = await _cluster.Store.QueryAuditAsync(new AuditQuery(Type: AuditEventTypes.LoginFailed), CancellationToken.None);
        Assert.Equal(LoginService.MaxFailuresPerUser + 1, failures.Count(f => f.IdentitySource == "web-session"));
        Assert.Single(failures, f => f.IdentitySource == "login");
    }

    [Fact]
    public async Task A_locked_user_gets_no_web_session()
    {
        await _cluster.Users.SetLockedAsync("alice", true, CancellationToken.None);

        Assert.Equal(LoginFailure.Locked, (await WebLoginAsync("alice", Password)).Failure);
    }

    public async Task DisposeAsync()
    {
        _key.Dispose();
        await _cluster.DisposeAsync();
        _dir.Dispose();
    }
}
