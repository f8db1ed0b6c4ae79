using Gatehouse.Access.Login;

namespace Gatehouse.Proxy.Authentication;

/// <summary>How a caller proved who it is: the audit's <c>identity_source</c> and /v1/whoami's <c>source</c>.</summary>
internal enum IdentitySource
{
    /// <summary>A client certificate presented in a TLS handshake Gatehouse terminated itself, directly or inside a tunnel.</summary>
    HandshakeCertificate,

    /// <summary>A client certificate a trusted front (a balancer doing mutual TLS) forwarded in a header.</summary>
    ForwardedHeader,

    /// <summary>A browser's web session cookie (HTTP apps only).</summary>
    WebSession,
}

/// <summary>What an access decision came to: the audit's <c>decision</c>.</summary>
internal enum AccessOutcome
{
    Allowed,
    Denied,
}

/// <summary>The words the audit trail (and /v1/whoami) has always used for these values. Readers of the trail match on
/// them, so they stay as they are whatever the enums are called; nothing else in the proxy spells them.</summary>
internal static class AuditWords
{
    public static string Word(this IdentitySource source) => source switch
    {
        IdentitySource.HandshakeCertificate => "handshake",
        IdentitySource.ForwardedHeader => "forwarded-header",
        IdentitySource.WebSession => LoginService.WebSessionSource,
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };

    public static string Word(this AccessOutcome outcome) => outcome == AccessOutcome.Allowed ? "allowed" : "denied";

    public static AccessOutcome Outcome(bool allowed) => allowed ? AccessOutcome.Allowed : AccessOutcome.Denied;

    /// <summary>Where a client certificate came from: a header when a front forwarded it, else our own handshake.</summary>
    public static IdentitySource CertificateSource(string? front) =>
        front is null ? IdentitySource.HandshakeCertificate : IdentitySource.ForwardedHeader;
}
