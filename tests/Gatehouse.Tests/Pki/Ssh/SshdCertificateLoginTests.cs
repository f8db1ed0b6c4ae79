using System.Security.Cryptography;
using Gatehouse.Pki.Ssh;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Ssh;

/// <summary>
/// A real sshd on loopback that trusts three Gatehouse user CAs (TrustedUserCAKeys) and nothing
/// else: no authorized_keys, no passwords. Shared by the tests of the class; stopped by PID.
/// </summary>
public sealed class SshdTrustingGatehouseCas : IAsyncLifetime
{
    public static readonly string[] CaKinds = ["P-256", "P-384", "RSA-3072"];

    private readonly TempDirectory _dir = new();
    private SshdPeer? _sshd;

    public Dictionary<string, AsymmetricAlgorithm> Cas { get; } = CaKinds.ToDictionary(k => k, TestKeys.Create);

    public string Output => _sshd?.Output ?? "";

    public async Task InitializeAsync()
    {
        var trustedCas = _dir.File("trusted_user_ca_keys.pub");
        await File.WriteAllLinesAsync(trustedCas, Cas.Select(ca => OpenSshKeyFormat.PublicKeyLine(ca.Value, "gatehouse-ca-" + ca.Key)));
        _sshd = await SshdPeer.StartAsync(trustedCas);
    }

    /// <summary>Writes the key and certificate files and runs <c>ssh … echo gatehouse-ok</c> with them.</summary>
    internal async Task<ProcessResult> LoginAsync(AsymmetricAlgorithm key, OpenSshCertificate cert, string user)
    {
        var name = "id-" + Guid.NewGuid().ToString("N");
        var keyFile = _dir.File(name);
        await File.WriteAllTextAsync(keyFile, OpenSshKeyFormat.PrivateKeyPem(key));
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite); // ssh refuses a key others can read
        var certFile = _dir.File(name + "-cert.pub");
        await File.WriteAllTextAsync(certFile, cert.ToAuthorizedKeysLine(user) + "\n");
        return await _sshd!.LoginAsync(keyFile, certFile, user);
    }

    /// <summary>Waits until sshd has logged the text (it logs a refusal as the client is told).</summary>
    public Task WaitForLogAsync(string text) => _sshd!.WaitForLogAsync(text);

    public async Task DisposeAsync()
    {
        if (_sshd is not null)
            await _sshd.DisposeAsync();
        foreach (var ca in Cas.Values)
            ca.Dispose();
        _dir.Dispose();
    }
}

public sealed class SshdCertificateLoginTests(SshdTrustingGatehouseCas sshd) : IClassFixture<SshdTrustingGatehouseCas>
{
    private static string User => Environment.UserName;

    [Theory]
    [InlineData("P-256", "P-256")]
    [InlineData("P-384", "RSA-3072")]
    [InlineData("RSA-3072", "P-256")]
    public async Task Sshd_accepts_a_login_with_our_certificate(string caKind, string subjectKind)
    {
        using var key = TestKeys.Create(subjectKind);
        var now = DateTimeOffset.UtcNow;
        var keyId = $"login-{caKind}-{subjectKind}";
        var cert = Sign(caKind, new OpenSshCertificateRequest(key, 1, OpenSshCertificateType.User, keyId,
            [User], now.AddMinutes(-5), now.AddMinutes(5)));

        var result = await sshd.LoginAsync(key, cert, User);

        Assert.True(result.ExitCode == 0, $"ssh exited {result.ExitCode}:\n{result.Output}\nsshd:\n{sshd.Output}");
        Assert.Equal("gatehouse-ok", result.Stdout.Trim());
        // With AuthorizedKeysFile none, the certificate is the only way in; sshd names it.
        await sshd.WaitForLogAsync($"Accepted publickey for {User} from 127.0.0.1");
        await sshd.WaitForLogAsync($"ID {keyId} (serial 1) CA {TestKeys.SshKeygenKind(caKind)} {OpenSshKeyFormat.Fingerprint(sshd.Cas[caKind])}");
    }

    [Fact]
    public async Task Sshd_refuses_a_certificate_without_the_user_as_principal()
    {
        using var key = TestKeys.Create("P-256");
        var now = DateTimeOffset.UtcNow;
        var cert = Sign("P-256", new OpenSshCertificateRequest(key, 2, OpenSshCertificateType.User, "wrong-principal-test",
            ["someone-else"], now.AddMinutes(-5), now.AddMinutes(5)));

        var result = await sshd.LoginAsync(key, cert, User);

        Assert.True(result.ExitCode == 255, $"ssh exited {result.ExitCode}, expected 255:\n{result.Output}");
        Assert.DoesNotContain("gatehouse-ok", result.Stdout);
        await sshd.WaitForLogAsync("name is not a listed principal");
    }

    [Fact]
    public async Task Sshd_refuses_an_expired_certificate()
    {
        using var key = TestKeys.Create("P-256");
        var now = DateTimeOffset.UtcNow;
        var cert = Sign("P-256", new OpenSshCertificateRequest(key, 3, OpenSshCertificateType.User, "expired-test",
            [User], now.AddHours(-2), now.AddHours(-1)));

        var result = await sshd.LoginAsync(key, cert, User);

        Assert.True(result.ExitCode == 255, $"ssh exited {result.ExitCode}, expected 255:\n{result.Output}");
        Assert.DoesNotContain("gatehouse-ok", result.Stdout);
        await sshd.WaitForLogAsync("Certificate invalid: expired");
    }

    [Fact]
    public async Task Sshd_refuses_a_certificate_from_an_untrusted_ca()
    {
        using var untrustedCa = TestKeys.Create("P-256");
        using var key = TestKeys.Create("P-256");
        var now = DateTimeOffset.UtcNow;
        var cert = new OpenSshCertificateSigner(untrustedCa).Sign(new OpenSshCertificateRequest(key, 4,
            OpenSshCertificateType.User, "untrusted-ca-test", [User], now.AddMinutes(-5), now.AddMinutes(5)));

        var result = await sshd.LoginAsync(key, cert, User);

        Assert.True(result.ExitCode == 255, $"ssh exited {result.ExitCode}, expected 255:\n{result.Output}");
        Assert.DoesNotContain("gatehouse-ok", result.Stdout);
        // sshd gives no reason at VERBOSE for an unknown CA, only the failed attempt.
        await sshd.WaitForLogAsync("ID untrusted-ca-test (serial 4)");
        Assert.DoesNotContain("Accepted certificate ID \"untrusted-ca-test\"", sshd.Output);
    }

    private OpenSshCertificate Sign(string caKind, OpenSshCertificateRequest request) =>
        new OpenSshCertificateSigner(sshd.Cas[caKind]).Sign(request);
}
