using System.Net;
using Gatehouse.ForwardedCerts;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// Who is behind a request or a connection, and how Gatehouse knows: the one shape for HTTP requests (built by the
/// client-certificate scheme, or from a browser's web session for HTTP apps) and gatehouse-* connections (built by the
/// service router). What a caller is allowed ends with <see cref="ExpiresAt"/> (<see cref="CredentialExpiry"/>), and
/// every decision about it is audited from it (<see cref="AccessAudit"/>).
/// </summary>
/// <param name="Client">The client's address: the TCP peer, or the address resolved past trusted hops.</param>
/// <param name="ExpiresAt">When what vouches for the caller ends: the certificate's notAfter or the web session's end.</param>
/// <param name="Certificate">The client certificate's facts; null for a web session.</param>
/// <param name="Front">The trusted front that forwarded the certificate (<see cref="IdentitySource.ForwardedHeader"/>).</param>
/// <param name="SessionId">The web session's id (<see cref="IdentitySource.WebSession"/>), which ties its decisions to its sign-in.</param>
internal sealed record Caller(
    Identity.Identity Identity,
    IdentitySource Source,
    IPAddress Client,
    DateTimeOffset ExpiresAt,
    CertificateFacts? Certificate = null,
    string? Front = null,
    string? SessionId = null)
{
    public string User => Identity.User;

    /// <summary>What vouches for the caller, in a user's words: "certificate" or "web session".</summary>
    public string Credential => Source == IdentitySource.WebSession ? "web session" : "certificate";

    /// <summary>The caller an accepted certificate stands for (handshake or forwarded, as the verdict's front says).</summary>
    public static Caller Of(ForwardedAuthentication verdict, IPAddress client)
    {
        if (verdict is not { Status: ForwardedStatus.Authenticated, Identity: { } identity, Certificate: { } certificate })
            throw new ArgumentException("only an accepted certificate makes a caller", nameof(verdict));
        return new Caller(identity, AuditWords.CertificateSource(verdict.Front), client, certificate.NotAfter, certificate, verdict.Front);
    }
}
