using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using Gatehouse.Pki;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;
using Gatehouse.Tests.ForwardedCerts.Formats;
using Gatehouse.Tests.Pki;

namespace Gatehouse.Tests.ForwardedCerts;

public sealed class ForwardedCertificateAuthenticatorTests : IAsyncLifetime
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private Gatehouse.Cluster.ClusterState _cluster = null!;
    private TrustedFront _front = null!;
    private ForwardedCertificateAuthenticator _authenticator = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.OpenAsync(_dir.Path, _time);
        var format = ForwardedCertificateFormats.ById["aws-alb-passthrough"];
        _front = new TrustedFront("alb", format, [IPNetwork.Parse("10.0.0.0/16")], format.DefaultHeaders,
            new SharedSecretHeader("X-Front-Secret", Encoding.UTF8.GetBytes("a-long-shared-secret")));
        _authenticator = new ForwardedCertificateAuthenticator(new ForwardedCertificateOptions([_front], new DecodeLimits()), _cluster.Validator,
            () => _cluster.Trust, new IdentityMapper([], "test-cluster"), _time);
    }

    private async Task<X509Certificate2> IssueAsync(string user, TimeSpan ttl, string? pinnedIp = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return await _cluster.Issuer.IssueUserAsync(new Gatehouse.Identity.Identity { User = user, Cluster = "", Roles = ["dev"], PinnedIp = pinnedIp },
            new PublicKey(key), ttl, CancellationToken.None);
    }

    private static ReceivedHeaders Headers(X509Certificate2 leaf, string secret = "a-long-shared-secret") =>
        ReceivedHeaders.Of(("X-Amzn-Mtls-Clientcert", Encode.Alb(leaf)), ("X-Front-Secret", secret));

    [Fact]
    public void A_front_needs_its_network_and_its_secret()
    {
        var withSecret = ReceivedHeaders.Of(("X-Front-Secret", "a-long-shared-secret"));
        Assert.Same(_front, _authenticator.FrontFor(IPAddress.Parse("10.0.4.2"), withSecret));
        Assert.Same(_front, _authenticator.FrontFor(IPAddress.Parse("::ffff:10.0.4.2"), withSecret));
        Assert.Null(_authenticator.FrontFor(IPAddress.Parse("10.1.4.2"), withSecret));
        Assert.Null(_authenticator.FrontFor(IPAddress.Parse("10.0.4.2"), ReceivedHeaders.Of(("X-Front-Secret", "a-long-shared-secreT"))));
        Assert.Null(_authenticator.FrontFor(IPAddress.Parse("10.0.4.2"), ReceivedHeaders.Of(("X-Front-Secret", "a-long-shared-secret"), ("X-Front-Secret", "a-long-shared-secret"))));
    }

    [Fact]
    public async Task A_gatehouse_certificate_becomes_its_identity_and_the_verdict_is_reused()
    {
        using var leaf = await IssueAsync("alice", TimeSpan.FromHours(1));
        var first = _authenticator.Authenticate(_front, Headers(leaf), Client, out var fresh);
        Assert.True(fresh);
        Assert.Equal(ForwardedStatus.Authenticated, first.Status);
        Assert.Equal("alice", first.Identity!.User);
        Assert.Equal(["dev"], first.Identity.Roles);
        Assert.Equal("alb", first.Front);
        Assert.Equal(SerialNumbers.Of(leaf), first.Certificate!.Serial);
        Assert.True(first.Certificate.IssuedByGatehouse);

        var second = _authenticator.Authenticate(_front, Headers(leaf), Client, out fresh);
        Assert.False(fresh);
        Assert.Equal(first.Identity, second.Identity);
    }

    [Fact]
    public async Task A_revocation_changes_the_trust_version_and_the_next_request_is_refused()
    {
        using var leaf = await IssueAsync("bob", TimeSpan.FromHours(1));
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_front, Headers(leaf), Client, out _).Status);
        var before = _cluster.Trust.Version;
        Assert.Same(_cluster.Trust, await _cluster.ReloadTrustAsync(CancellationToken.None)); // nothing changed: same view, cache kept

        await _cluster.Revocation.RevokeAsync(SerialNumbers.Of(leaf), X509RevocationReason.KeyCompromise, CancellationToken.None);
        await _cluster.ReloadTrustAsync(CancellationToken.None);
        Assert.NotEqual(before, _cluster.Trust.Version);
        var refused = _authenticator.Authenticate(_front, Headers(leaf), Client, out var fresh);
        Assert.True(fresh);
        Assert.Equal(ForwardedStatus.Refused, refused.Status);
        Assert.Equal(nameof(CertificateRefusal.ClientCertCrlHit), refused.Reason);
    }

    [Fact]
    public async Task A_cached_verdict_never_outlives_the_certificate()
    {
        using var leaf = await IssueAsync("carol", TimeSpan.FromSeconds(30));
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_front, Headers(leaf), Client, out _).Status);
        _time.Advance(TimeSpan.FromSeconds(45)); // inside the cache lifetime, past NotAfter
        var expired = _authenticator.Authenticate(_front, Headers(leaf), Client, out var fresh);
        Assert.True(fresh);
        Assert.Equal(nameof(CertificateRefusal.ClientCertExpired), expired.Reason);
    }

    [Fact]
    public async Task A_pinned_certificate_is_honoured_only_from_its_address()
    {
        using var leaf = await IssueAsync("dave", TimeSpan.FromHours(1), pinnedIp: "203.0.113.7");
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_front, Headers(leaf), Client, out _).Status);
        var elsewhere = _authenticator.Authenticate(_front, Headers(leaf), IPAddress.Parse("198.51.100.1"), out _);
        Assert.Equal(ForwardedStatus.Refused, elsewhere.Status);
        Assert.Contains("pinned to 203.0.113.7", elsewhere.Message);
    }

    [Fact]
    public void Undecodable_headers_and_unmapped_company_certificates_are_refused_with_reasons()
    {
        var garbage = _authenticator.Authenticate(_front, ReceivedHeaders.Of(("X-Amzn-Mtls-Clientcert", "-----BEGIN%20CERTIFICATE-----%0A%ZZ")), Client, out _);
        Assert.Equal(ForwardedStatus.Refused, garbage.Status);
        Assert.Equal(ForwardedAuthentication.Rejected, garbage.Reason);
        Assert.Contains("front 'alb'", garbage.Message);

        Assert.Equal(ForwardedStatus.NoCertificate, _authenticator.Authenticate(_front, ReceivedHeaders.Of(), Client, out _).Status);

        var pki = TestPki.Shared;
        var untrusted = _authenticator.Authenticate(_front, ReceivedHeaders.Of(("X-Amzn-Mtls-Clientcert", Encode.Alb(pki.EcLeaf, pki.EcIntermediate))), Client, out _);
        Assert.Equal(nameof(CertificateRefusal.ClientCertUntrusted), untrusted.Reason);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _dir.Dispose();
    }
}
