using System.Net;
using Gatehouse.Audit;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Storage;

namespace Gatehouse.Proxy.Tests.Authentication;

/// <summary>The one writer of access audit events: the trail's words for sources and outcomes, whoever decided.</summary>
public sealed class AccessAuditTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly MemoryAuditStore _store = new();
    private readonly AccessAudit _audit;

    public AccessAuditTests() => _audit = new AccessAudit(new AuditLog(_store, _time), _time);

    private static readonly CertificateFacts Certificate = new("CN=alice", "CN=Gatehouse User CA", "0A1B", "AB12", Start.AddHours(1), true);

    private static Caller Alice(IdentitySource source, string? front = null, string? session = null) =>
        new(new Identity.Identity { User = "alice", Cluster = "c" }, source, IPAddress.Parse("192.0.2.7"), Start.AddHours(1),
            source == IdentitySource.WebSession ? null : Certificate, front, session);

    [Theory]
    [InlineData(nameof(IdentitySource.HandshakeCertificate), "handshake")]
    [InlineData(nameof(IdentitySource.ForwardedHeader), "forwarded-header")]
    [InlineData(nameof(IdentitySource.WebSession), "web-session")]
    public async Task A_decision_names_the_source_in_the_trails_words(string sourceName, string word)
    {
        var source = Enum.Parse<IdentitySource>(sourceName);
        await _audit.DecisionAsync(Alice(source), "http-app:echo", AccessOutcome.Denied, "no role allows it",
            new Dictionary<string, string> { ["arrival"] = "host" }, CancellationToken.None);

        var decision = Assert.Single(_store.Events);
        Assert.Equal(AuditEventTypes.AccessDecision, decision.Type);
        Assert.Equal(word, decision.IdentitySource);
        Assert.Equal("denied", decision.Decision);
        Assert.Equal("alice", decision.User);
        Assert.Equal("192.0.2.7", decision.SourceIp);
        Assert.Equal("host", decision.Details!["arrival"]);
    }

    [Fact]
    public async Task A_web_sessions_decision_names_the_session()
    {
        await _audit.DecisionAsync(Alice(IdentitySource.WebSession, session: "s-1"), "http-app:echo", AccessOutcome.Allowed, "allowed by role dev",
            new Dictionary<string, string>(), CancellationToken.None);

        var decision = Assert.Single(_store.Events);
        Assert.Equal("allowed", decision.Decision);
        Assert.Equal("s-1", decision.Details!["session"]);
        Assert.Null(decision.CertificateSerial);
    }

    [Fact]
    public async Task With_a_throttle_the_same_user_resource_and_outcome_is_recorded_once_a_window()
    {
        var throttle = new AuditThrottle(TimeSpan.FromMinutes(1));
        var caller = Alice(IdentitySource.ForwardedHeader, front: "alb");
        for (var i = 0; i < 3; i++)
            await _audit.DecisionAsync(caller, "kube:dev", AccessOutcome.Allowed, "ok", new Dictionary<string, string>(), CancellationToken.None, throttle);
        await _audit.DecisionAsync(caller, "kube:dev", AccessOutcome.Denied, "no", new Dictionary<string, string>(), CancellationToken.None, throttle);

        Assert.Equal(["allowed", "denied"], _store.Events.Select(e => e.Decision).Order());
        _time.Advance(TimeSpan.FromMinutes(1));
        await _audit.DecisionAsync(caller, "kube:dev", AccessOutcome.Allowed, "ok", new Dictionary<string, string>(), CancellationToken.None, throttle);
        Assert.Equal(3, _store.Events.Count);
    }

    [Fact]
    public async Task A_refused_dial_certificate_is_a_denied_decision_without_a_user()
    {
        var verdict = ForwardedAuthentication.Refuse(null, "ClientCertUntrusted", "not issued by a trusted CA", Certificate);

        await _audit.CertificateRefusedAsync(verdict, IPAddress.Parse("192.0.2.7"), "gatehouse-tcp", new Dictionary<string, string> { ["arrival"] = "direct" },
            CancellationToken.None);

        var decision = Assert.Single(_store.Events);
        Assert.Null(decision.User);
        Assert.Equal("handshake", decision.IdentitySource);
        Assert.Equal("denied", decision.Decision);
        Assert.Equal("ClientCertUntrusted: not issued by a trusted CA", decision.Reason);
        Assert.Equal("0A1B", decision.CertificateSerial);
    }
}
