using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using Gatehouse.Pki;
using Gatehouse.Testing;
using Gatehouse.Tests.ForwardedCerts.Formats;
using Gatehouse.Tests.Pki;

namespace Gatehouse.Tests.ForwardedCerts;

/// <summary>
/// The verdict cache is keyed on the presented bytes, before any certificate is parsed: the same bytes hit, any other
/// bytes (one signature byte, another split of the chain, another ALB verify description) miss, and so does a new
/// trust version; a cached verdict still ends at the certificate's NotAfter.
/// </summary>
public sealed class VerdictCacheKeyTests : IAsyncLifetime
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private Gatehouse.Cluster.ClusterState _cluster = null!;
    private TrustedFront _alb = null!, _verify = null!;
    private ForwardedCertificateAuthenticator _authenticator = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.OpenAsync(_dir.Path, _time);
        _alb = Front("alb", "aws-alb-passthrough");
        _verify = Front("alb-verify", "aws-alb-verify");
        _authenticator = new ForwardedCertificateAuthenticator(new ForwardedCertificateOptions([_alb, _verify], new DecodeLimits()), _cluster.Validator,
            () => _cluster.Trust, new IdentityMapper([], "test-cluster"), _time);
    }

    private static TrustedFront Front(string name, string formatId)
    {
        var format = ForwardedCertificateFormats.ById[formatId];
        return new TrustedFront(name, format, [IPNetwork.Parse("10.0.0.0/16")], format.DefaultHeaders, null);
    }

    private async Task<X509Certificate2> IssueAsync(string user, TimeSpan ttl)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return await _cluster.Issuer.IssueUserAsync(new Gatehouse.Identity.Identity { User = user, Cluster = "", Roles = ["dev"] },
            new PublicKey(key), ttl, CancellationToken.None);
    }

    private static ReceivedHeaders Alb(byte[] der) =>
        ReceivedHeaders.Of(("X-Amzn-Mtls-Clientcert", Encode.Url(Pem(der), "+=/")));

    private static string Pem(byte[] der) => $"-----BEGIN CERTIFICATE-----\n{Convert.ToBase64String(der)}\n-----END CERTIFICATE-----\n";

    [Fact]
    public async Task The_same_bytes_hit_and_one_different_signature_byte_misses()
    {
        using var leaf = await IssueAsync("erin", TimeSpan.FromHours(1));
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out var fresh).Status);
        Assert.True(fresh);
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out fresh).Status);
        Assert.False(fresh);
        // The same bytes spelled differently ('=' as %3D, AWS's own example) are the same presentation.
        var spelled = ReceivedHeaders.Of(("X-Amzn-Mtls-Clientcert", Encode.AlbExample(leaf)));
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_alb, spelled, Client, out fresh).Status);
        Assert.False(fresh);

        var tampered = leaf.RawData;
        tampered[^1] ^= 0x01; // the last byte is inside the signature: still one DER SEQUENCE, no longer signed by the CA
        var verdict = _authenticator.Authenticate(_alb, Alb(tampered), Client, out fresh);
        Assert.True(fresh);
        Assert.Equal(ForwardedStatus.Refused, verdict.Status);
        // … and the original still hits.
        _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out fresh);
        Assert.False(fresh);
    }

    [Fact]
    public async Task A_new_trust_version_misses_with_the_same_bytes()
    {
        using var leaf = await IssueAsync("frank", TimeSpan.FromHours(1));
        using var other = await IssueAsync("grace", TimeSpan.FromHours(1));
        _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out _);
        _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out var fresh);
        Assert.False(fresh);

        await _cluster.Revocation.RevokeAsync(SerialNumbers.Of(other), X509RevocationReason.KeyCompromise, CancellationToken.None);
        await _cluster.ReloadTrustAsync(CancellationToken.None); // someone else's revocation: a new version all the same
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out fresh).Status);
        Assert.True(fresh);
    }

    [Fact]
    public async Task A_cached_verdict_is_not_served_after_not_after_on_either_path()
    {
        using var leaf = await IssueAsync("heidi", TimeSpan.FromSeconds(30));
        _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out _);
        _authenticator.AuthenticateHandshake(leaf, [], Client, out _);
        _authenticator.AuthenticateHandshake(leaf, [], Client, out var fresh);
        Assert.False(fresh);

        _time.Advance(TimeSpan.FromSeconds(31)); // inside the two-minute cache lifetime, past NotAfter
        var forwarded = _authenticator.Authenticate(_alb, Alb(leaf.RawData), Client, out fresh);
        Assert.True(fresh);
        Assert.Equal(nameof(Gatehouse.Pki.Validation.CertificateRefusal.ClientCertExpired), forwarded.Reason);
        var handshake = _authenticator.AuthenticateHandshake(leaf, [], Client, out fresh);
        Assert.True(fresh);
        Assert.Equal(nameof(Gatehouse.Pki.Validation.CertificateRefusal.ClientCertExpired), handshake.Reason);
    }

    [Fact]
    public async Task Alb_verify_descriptions_are_part_of_the_key()
    {
        using var leaf = await IssueAsync("ivan", TimeSpan.FromHours(1));
        (string, string)[] Verify(string serial) =>
        [
            ("X-Amzn-Mtls-Clientcert-Leaf", Encode.Alb(leaf)), ("X-Amzn-Mtls-Clientcert-Serial-Number", serial),
            ("X-Amzn-Mtls-Clientcert-Issuer", leaf.IssuerName.Name), ("X-Amzn-Mtls-Clientcert-Subject", leaf.SubjectName.Name),
            ("X-Amzn-Mtls-Clientcert-Validity", Encode.Validity(leaf)),
        ];
        Assert.Equal(ForwardedStatus.Authenticated, _authenticator.Authenticate(_verify, ReceivedHeaders.Of(Verify(leaf.SerialNumber)), Client, out _).Status);
        _authenticator.Authenticate(_verify, ReceivedHeaders.Of(Verify(leaf.SerialNumber)), Client, out var fresh);
        Assert.False(fresh);

        // Same leaf bytes, a serial that does not match it: the check runs again and refuses.
        var lying = _authenticator.Authenticate(_verify, ReceivedHeaders.Of(Verify("0BADC0FFEE")), Client, out fresh);
        Assert.True(fresh);
        Assert.Equal(ForwardedStatus.Refused, lying.Status);
        Assert.Contains("Serial-Number says", lying.Message);
    }

    [Fact]
    public void The_key_separates_certificates_sources_and_versions()
    {
        var pki = TestPki.Shared;
        VerdictKey Key(int version, string source, params X509Certificate2[] chain) =>
            VerdictKey.Of(chain[0], chain[1..], version, source);
        var key = Key(1, "handshake", pki.EcLeaf, pki.EcIntermediate);
        Assert.Equal(key, Key(1, "handshake", pki.EcLeaf, pki.EcIntermediate));
        Assert.NotEqual(key, Key(2, "handshake", pki.EcLeaf, pki.EcIntermediate));
        Assert.NotEqual(key, Key(1, "forwarded-header", pki.EcLeaf, pki.EcIntermediate));
        Assert.NotEqual(key, Key(1, "handshake", pki.EcLeaf));
        Assert.NotEqual(key, Key(1, "handshake", pki.EcIntermediate, pki.EcLeaf));

        // The forwarded path keys the decoded DER the same way as the handshake path keys RawData.
        using var decoded = ForwardedCertificateFormats.ById["aws-alb-passthrough"].DecodePresented(
            ReceivedHeaders.Of(("X-Amzn-Mtls-Clientcert", Encode.Alb(pki.EcLeaf, pki.EcIntermediate))), Encode.Defaults, new DecodeLimits());
        Assert.Equal(key, VerdictKey.Of(decoded.Chain!, null, 1, "handshake"));
    }

    [Fact]
    public void A_der_sequence_that_is_no_certificate_is_refused_on_a_miss()
    {
        // 30 03 02 01 05: one complete DER SEQUENCE (an INTEGER inside), so it passes the decoder's structure check; only
        // the certificate parser, which a miss runs, can tell it is no certificate.
        var verdict = _authenticator.Authenticate(_alb, Alb([0x30, 0x03, 0x02, 0x01, 0x05]), Client, out _);
        Assert.Equal(ForwardedStatus.Refused, verdict.Status);
        Assert.Contains("not an X.509 certificate", verdict.Message);
        Assert.Equal(DecodeStatus.Refused, Encode.Decode("aws-alb-passthrough", ("X-Amzn-Mtls-Clientcert", Encode.Url(Pem([0x30, 0x03, 0x02, 0x01, 0x05]), "+=/"))).Status);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _dir.Dispose();
    }
}
