namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>
/// Two openssl CAs (RSA and EC P-256) that each revoked serial 8F01 (DER 00 8F 01: the high bit forces a
/// leading zero) for keyCompromise and issued 8F02 without revoking it, plus a third CA that signed nothing.
/// Built once per test class because RSA key generation is slow on a shared 2-core box.
/// </summary>
public sealed class OpensslCrlFixture : IAsyncLifetime
{
    internal OpensslCa Rsa { get; private set; } = null!;
    internal OpensslCa Ec { get; private set; } = null!;
    internal OpensslCa Other { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Rsa = await OpensslCa.CreateAsync("Corp Root", "rsa:2048");
        Ec = await OpensslCa.CreateAsync("Corp EC Root", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
        Other = await OpensslCa.CreateAsync("Other Root", "rsa:2048");
        foreach (var ca in new[] { Rsa, Ec })
        {
            await ca.RevokeAsync(await ca.IssueAsync("8F01", "revoked leaf"), "keyCompromise");
            await ca.IssueAsync("8F02", "good leaf");
        }
    }

    public Task DisposeAsync()
    {
        Rsa.Dispose();
        Ec.Dispose();
        Other.Dispose();
        return Task.CompletedTask;
    }
}
