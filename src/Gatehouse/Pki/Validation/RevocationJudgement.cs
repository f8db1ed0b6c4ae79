using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Trust;

namespace Gatehouse.Pki.Validation;

/// <summary>
/// Judges the certificates of one chain against their issuers' revocation views (issue 16), and gathers what the
/// verdict rests on: the earliest moment a CRL it used goes stale, and any warning to pass on.
/// </summary>
/// <remarks>
/// Order: no CRL in force → unknown (refused unless on_unknown: allow); a stale CRL → refused unless on_stale: warn;
/// a serial on the CRL → revoked. A stale CRL is still read: a certificate on it stays refused under on_stale: warn.
/// </remarks>
internal sealed class RevocationJudgement(DateTimeOffset now)
{
    public DateTimeOffset? RecheckBy { get; private set; }

    public string? Warning { get; private set; }

    /// <summary>Null when <paramref name="certificate"/> may pass, else the refusal.</summary>
    public CertificateValidationResult? Judge(X509Certificate2 certificate, CaRevocation view)
    {
        if (view.Crl is not { } crl)
        {
            var why = view.Problems.Count > 0 ? string.Join("; ", view.Problems) : "none of its sources holds a CRL signed by this CA";
            var message = $"revocation status unknown: CRL for {view.CaSubject} could not be read: {why}";
            if (view.Policy.OnUnknown == UnknownStatusAction.Allow)
            {
                Warning ??= message + $" (allowed by {view.Policy.Key} on_unknown: allow)";
                return null;
            }
            return CertificateValidator.Refuse(CertificateRefusal.ClientCertRevocationUnknown,
                message + "; fix the CRL source (or set on_unknown: allow for this CA to accept such certificates)");
        }
        if (crl.IsRevoked(certificate.SerialNumberBytes.Span, out var entry))
            return CertificateValidator.Refuse(CertificateRefusal.ClientCertCrlHit,
                $"{CertificatePolicy.Describe(certificate)} (serial {SerialNumbers.Of(certificate)}) was revoked by {view.CaSubject} at {entry.RevokedAt:u}");
        if (view.IsStale(now))
        {
            var message = $"the CRL for {view.CaSubject} from {view.CrlSource} is stale: its nextUpdate was {crl.NextUpdate:u}";
            if (view.Policy.OnStale == StaleCrlAction.Warn)
            {
                Warning ??= message + $" (allowed by on_stale: warn)";
                return null;
            }
            return CertificateValidator.Refuse(CertificateRefusal.ClientCertRevocationStale,
                message + "; publish a fresh CRL there (or set on_stale: warn for this CA)");
        }
        if (view.FreshUntil is { } until && (RecheckBy is null || until < RecheckBy)) RecheckBy = until;
        return null;
    }
}
