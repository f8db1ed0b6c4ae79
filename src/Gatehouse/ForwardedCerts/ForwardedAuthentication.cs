using Gatehouse.Pki.Validation;

namespace Gatehouse.ForwardedCerts;

internal enum ForwardedStatus { NoCertificate, Authenticated, Refused }

/// <summary>What a certificate was: enough to audit it and to show it in /v1/whoami.</summary>
internal sealed record CertificateFacts(string Subject, string Issuer, string Serial, string Sha256, DateTimeOffset NotAfter, bool IssuedByGatehouse);

/// <summary>The verdict on a request's forwarded (or handshake) client certificate.</summary>
/// <param name="Reason">Machine-readable, in ALB's vocabulary where it has a word (ClientCertExpired, …), else
/// ClientCertRejected (decoding or mapping refused it).</param>
internal sealed record ForwardedAuthentication(
    ForwardedStatus Status,
    Identity.Identity? Identity,
    CertificateFacts? Certificate,
    string? Front,
    string? Reason,
    string Message)
{
    public const string Rejected = "ClientCertRejected";

    /// <summary>Accepted with a caveat the operator should hear of (see <see cref="Pki.Validation.CertificateValidationResult.Warning"/>).</summary>
    public string? Warning { get; init; }

    public static ForwardedAuthentication None { get; } = new(ForwardedStatus.NoCertificate, null, null, null, null, "no client certificate");

    public static ForwardedAuthentication Refuse(string? front, string reason, string message, CertificateFacts? certificate = null) =>
        new(ForwardedStatus.Refused, null, certificate, front, reason, message);

    public static string ReasonOf(CertificateRefusal refusal) => refusal.ToString();
}
