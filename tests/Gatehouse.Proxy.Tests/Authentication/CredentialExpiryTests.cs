using System.Net;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;

namespace Gatehouse.Proxy.Tests.Authentication;

/// <summary>Sessions end with their credential: the one expiry every session kind (TCP, forwarded HTTP) uses.</summary>
public sealed class CredentialExpiryTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static Caller CertificateCaller(DateTimeOffset notAfter) =>
        new(new Identity.Identity { User = "alice", Cluster = "c" }, IdentitySource.HandshakeCertificate, IPAddress.Loopback, notAfter,
            new CertificateFacts("CN=alice", "CN=ca", "0A", "AB", notAfter, IssuedByGatehouse: true));

    [Fact]
    public void The_token_is_cancelled_when_the_certificate_expires_and_not_before()
    {
        var time = new FakeTimeProvider(Start);
        using var expiry = new CredentialExpiry(CertificateCaller(Start + TimeSpan.FromHours(1)), time);

        time.Advance(TimeSpan.FromMinutes(59));
        Assert.False(expiry.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(expiry.HasExpired);
        Assert.Equal("the certificate expired at 2026-01-01 13:00:00Z", expiry.Describe());
    }

    [Fact]
    public void An_already_expired_credential_ends_the_session_at_once()
    {
        using var expiry = new CredentialExpiry(CertificateCaller(Start - TimeSpan.FromSeconds(1)), new FakeTimeProvider(Start));
        Assert.True(expiry.Token.IsCancellationRequested);
    }

    [Fact]
    public void A_credential_that_lives_longer_than_a_timer_can_wait_still_ends_on_its_day()
    {
        // A company certificate valid for a year: a timer (or a CancellationTokenSource delay) refuses more than ~49.7 days.
        var time = new FakeTimeProvider(Start);
        using var expiry = new CredentialExpiry(CertificateCaller(Start + TimeSpan.FromDays(400)), time);

        time.Advance(TimeSpan.FromDays(399));
        Assert.False(expiry.HasExpired);
        time.Advance(TimeSpan.FromDays(1));
        Assert.True(expiry.HasExpired);
    }

    [Fact]
    public void A_web_session_is_named_as_such()
    {
        var time = new FakeTimeProvider(Start);
        var caller = new Caller(new Identity.Identity { User = "bob", Cluster = "c" }, IdentitySource.WebSession, IPAddress.Loopback, Start + TimeSpan.FromHours(8),
            SessionId: "s1");
        using var expiry = new CredentialExpiry(caller, time);

        time.Advance(TimeSpan.FromHours(8));
        Assert.Equal("the web session expired at 2026-01-01 20:00:00Z", expiry.Describe());
    }
}
