using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using Gatehouse.Testing;
using Gatehouse.Testing.Fuzzing;
using Gatehouse.Tests.ForwardedCerts.Formats;
using Gatehouse.Tests.Pki;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Fuzzing;

/// <summary>
/// Past the decoders: a forwarded certificate's DER mutated (not its encoding), forwarded by a trusted front and judged
/// all the way — parsed, validated against the cluster's CAs and CRL, mapped to an identity. Nothing may throw, and only
/// the certificate the cluster issued, byte for byte, may authenticate: any other bytes break its signature.
/// </summary>
public sealed class AuthenticatorFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private Gatehouse.Cluster.ClusterState _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.OpenAsync(_dir.Path, _time);

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    private async Task<(X509Certificate2 Leaf, TrustedFront Front, ForwardedCertificateAuthenticator Authenticator)> SetUpAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leaf = await _cluster.Issuer.IssueUserAsync(new Gatehouse.Identity.Identity { User = "alice", Cluster = "", Roles = ["dev"] },
            new PublicKey(key), TimeSpan.FromHours(1), CancellationToken.None);
        var format = ForwardedCertificateFormats.ById["aws-alb-passthrough"];
        var front = new TrustedFront("alb", format, [IPNetwork.Parse("10.0.0.0/16")], format.DefaultHeaders, null);
        var authenticator = new ForwardedCertificateAuthenticator(new ForwardedCertificateOptions([front], new DecodeLimits()), _cluster.Validator,
            () => _cluster.Trust, new IdentityMapper([], "test-cluster"), _time);
        return (leaf, front, authenticator);
    }

    private static ReceivedHeaders Forwarded(byte[] der) => ReceivedHeaders.Of(("X-Amzn-Mtls-Clientcert", Uri.EscapeDataString(
        "-----BEGIN CERTIFICATE-----\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\n-----END CERTIFICATE-----\n")));

    [Fact]
    public async Task A_certificate_the_chain_builder_fails_on_is_refused_not_thrown()
    {
        // The fuzzer's find: one byte of the EC point changed, so it is no longer on the curve; the certificate still
        // loads, and OpenSSL's X509_verify_cert fails ("unable to get certs public key") — which threw out of the validator.
        var (leaf, front, authenticator) = await SetUpAsync();
        using var _ = leaf;
        var der = leaf.RawData.ToArray();
        var point = der.AsSpan().IndexOf(new byte[] { 0x03, 0x42, 0x00, 0x04 });
        Assert.True(point > 0, "the leaf's EC point was not found");
        der[point + 3 + 64] ^= 0x01; // the last byte of y: y² ≠ x³ + ax + b
        using (var broken = X509CertificateLoader.LoadCertificate(der))
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            Assert.ThrowsAny<CryptographicException>(() => chain.Build(broken));
        }

        var verdict = authenticator.Authenticate(front, Forwarded(der), Client, out var fresh);

        Assert.True(fresh);
        Assert.Equal(ForwardedStatus.Refused, verdict.Status);
        Assert.Contains("could not be checked", verdict.Message);
    }

    [Fact]
    public async Task Forwarded_certificate_judged_whole()
    {
        var (leaf, front, authenticator) = await SetUpAsync();
        using var _ = leaf;

        var target = new FuzzTarget("forwarded-certificate", [leaf.RawData])
        {
            Tokens = Mutator.Tokens("\x30\x82", "\x06\x03\x55\x1d", "\x01\x01\xff", "\x17\x0d", "\x18\x0f", "\x05\x00", "\x02\x01\x00"),
            ShortInputs = 1000,
            MemoryBase = 16 << 20,
        };
        Fuzz.Run(target, (der, _) =>
        {
            var verdict = authenticator.Authenticate(front, Forwarded(der), Client, out var _);
            if (verdict.Status == ForwardedStatus.Authenticated && !der.AsSpan().SequenceEqual(leaf.RawData))
                throw new InvalidOperationException($"altered certificate bytes authenticated as {verdict.Identity?.User}");
            return verdict.Status == ForwardedStatus.Refused ? $"refused: {verdict.Reason}" : verdict.Status.ToString();
        }, output.WriteLine);
    }
}
