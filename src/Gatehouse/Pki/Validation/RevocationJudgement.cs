using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Ocsp;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Trust;

namespace Gatehouse.Pki.Validation;

/// <summary>
/// Judges the certificates of one chain against their issuers' revocation information (issue 16) — the CA's CRL in
/// force and, where its policy asks, an OCSP answer — and gathers what the verdict rests on: the earliest moment
/// that information runs out, and any warning to pass on.
/// </summary>
/// <remarks>
/// 1. Revoked by the CRL or by OCSP → refused (a stale CRL still counts: what it lists stays refused).
/// 2. A fresh CRL or an OCSP "good" → passes, until the earlier of the CRL's nextUpdate + grace and OCSP's nextUpdate.
/// 3. Only a stale CRL → refused, or a warning under on_stale: warn.
/// 4. Nothing usable (no CRL ever loaded, responder down or answering "unknown") → on_unknown decides; refuse by default.
/// </remarks>
internal sealed class RevocationJudgement(DateTimeOffset now)
{
    /// <summary>What OCSP said (<paramref name="Check"/>), or why it could not be asked (<paramref name="NotAsked"/>).</summary>
    internal sealed record OcspInput(Uri? Responder, OcspCheck? Check, string? NotAsked);

    public DateTimeOffset? RecheckBy { get; private set; }

    public string? Warning { get; private set; }

    /// <summary>Null when <paramref name="certificate"/> may pass, else the refusal.</summary>
    public CertificateValidationResult? Judge(X509Certificate2 certificate, CaRevocation view, OcspInput? ocsp)
    {
        var crl = view.Crl;
        var answer = ocsp?.Check?.Answer;
        if (crl is not null && crl.IsRevoked(certificate.SerialNumberBytes.Span, out var entry))
            return CertificateValidator.Refuse(CertificateRefusal.ClientCertCrlHit,
                $"{CertificatePolicy.Describe(certificate)} (serial {SerialNumbers.Of(certificate)}) was revoked by {view.CaSubject} at {entry.RevokedAt:u}");
        if (answer is { Status: OcspCertStatus.Revoked })
            return CertificateValidator.Refuse(CertificateRefusal.ClientCertOcspRevoked,
                $"{CertificatePolicy.Describe(certificate)} (serial {SerialNumbers.Of(certificate)}) was revoked" +
                (answer.RevokedAt is { } at ? $" at {at:u}" : "") + $", says the OCSP responder {CrlCache.Display(ocsp!.Responder!)} of {view.CaSubject}");

        var crlFresh = crl is not null && !view.IsStale(now);
        if (crlFresh && view.FreshUntil is { } crlUntil) Recheck(crlUntil);
        if (answer is { Status: OcspCertStatus.Good }) Recheck(ocsp!.Check!.Until);
        if (crlFresh || answer is { Status: OcspCertStatus.Good }) return null;

        if (crl is not null)
        {
            var message = $"the CRL for {view.CaSubject} from {view.CrlSource} is stale: its nextUpdate was {crl.NextUpdate:u}";
            if (view.Policy.OnStale == StaleCrlAction.Warn)
            {
                Warning ??= message + " (allowed by on_stale: warn)";
                return null;
            }
            return CertificateValidator.Refuse(CertificateRefusal.ClientCertRevocationStale,
                message + "; publish a fresh CRL there (or set on_stale: warn for this CA)");
        }

        var reasons = new List<string>();
        if (view.Policy.HasCrlSources)
            reasons.Add($"CRL for {view.CaSubject} could not be read: " +
                        (view.Problems.Count > 0 ? string.Join("; ", view.Problems) : "none of its sources holds a CRL signed by this CA"));
        if (ocsp is not null)
            reasons.Add($"OCSP for {view.CaSubject}: " + (answer is { Status: OcspCertStatus.Unknown }
                ? $"the responder {CrlCache.Display(ocsp.Responder!)} does not know this certificate"
                : ocsp.Check?.Error ?? ocsp.NotAsked));
        var unknown = "revocation status unknown: " + string.Join("; and ", reasons);
        if (ocsp?.Check is { } failed) Recheck(failed.Until); // ask again once the remembered failure runs out
        if (view.Policy.OnUnknown == UnknownStatusAction.Allow)
        {
            Warning ??= unknown + $" (allowed by {view.Policy.Key} on_unknown: allow)";
            return null;
        }
        return CertificateValidator.Refuse(CertificateRefusal.ClientCertRevocationUnknown,
            unknown + "; fix the revocation source (or set on_unknown: allow for this CA to accept such certificates)");
    }

    private void Recheck(DateTimeOffset until)
    {
        if (RecheckBy is null || until < RecheckBy) RecheckBy = until;
    }
}
