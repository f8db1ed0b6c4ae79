using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Trust;

namespace Gatehouse.Pki.Validation;

/// <summary>Why a certificate was refused, in the AWS ALB connection-log vocabulary where it has a word for it.</summary>
internal enum CertificateRefusal
{
    ClientCertUntrusted,
    ClientCertExpired,
    ClientCertNotYetValid,
    ClientCertCrlHit,
    /// <summary>No revocation source of the issuer could say (never loaded, unreachable): refused unless on_unknown: allow.</summary>
    ClientCertRevocationUnknown,
    /// <summary>The issuer's CRL is past its nextUpdate plus the grace: refused unless on_stale: warn.</summary>
    ClientCertRevocationStale,
    /// <summary>The issuer's OCSP responder says the certificate is revoked.</summary>
    ClientCertOcspRevoked,
    ClientCertPurposeInvalid,
    ClientCertTypeUnsupported,
    ClientCertMaxChainDepthExceeded,
    ClientCertInvalid,
}

/// <summary>The verdict on a client certificate; <see cref="Message"/> is a sentence a person can act on.</summary>
internal sealed record CertificateValidationResult(CertificateRefusal? Refusal, string Message, bool IssuedByGatehouse, int ChainLength)
{
    public bool IsValid => Refusal is null;

    /// <summary>The verdict rests on revocation information that runs out then (a CRL's nextUpdate plus the grace):
    /// a cache must not keep it longer.</summary>
    public DateTimeOffset? RecheckBy { get; init; }

    /// <summary>Accepted with a caveat an operator should hear of (a stale CRL under on_stale: warn, an unknown status
    /// under on_unknown: allow).</summary>
    public string? Warning { get; init; }
}

/// <param name="MaxChainDepth">Most certificates in a chain, leaf and root included (ALB's limit is 4).</param>
internal sealed record ValidationOptions(int MaxChainDepth = 4);

/// <summary>
/// The one place client certificates are judged, for TLS handshakes and forwarded headers alike: explicit chain
/// policy (custom root trust, no downloads, no OS revocation), ALB-compatible key and signature policy, clientAuth,
/// validity against <see cref="TimeProvider"/>, chain depth, and revocation from our own ledger and external CRLs.
/// </summary>
/// <remarks>OCSP answers come from <paramref name="ocsp"/>'s cache: <see cref="PrefetchRevocationAsync"/> asks the
/// responders first (async), then the synchronous <see cref="Validate"/> reads what they said.</remarks>
/// <param name="distributionPoints">Told the CRL locations named by a certificate of a trusted chain whose CA's policy
/// reads distribution points; returns once those CRLs were fetched (or failed).</param>
internal sealed class CertificateValidator(Func<TrustStore> trustStore, TimeProvider time, ValidationOptions options, Ocsp.OcspService? ocsp = null,
    Func<Revocation.RevocationPolicy, IReadOnlyList<Uri>, CancellationToken, ValueTask>? distributionPoints = null)
{
    /// <summary>True when some CA's policy needs the network before judging (OCSP, distribution points).</summary>
    public static bool NeedsPrefetch(TrustStore trust) =>
        trust.RevocationByIssuer.Values.Any(v => v.Policy.Ocsp != Revocation.OcspMode.Off || v.Policy.UseDistributionPoints);

    /// <summary>
    /// Asks the OCSP responders of the CAs whose policy wants OCSP about the certificates of this chain, so that
    /// <see cref="Validate"/> finds their answers. Does nothing (and builds no chain) when no policy uses OCSP.
    /// </summary>
    public async ValueTask PrefetchRevocationAsync(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, CancellationToken cancellationToken)
    {
        var trust = trustStore();
        if (!NeedsPrefetch(trust)) return;
        using var chain = BuildChain(leaf, presented, trust);
        var elements = chain.ChainElements.Select(e => e.Certificate).ToList();
        // Only a chain to our anchors may send us to the network: a stranger's certificate names no URL we fetch.
        var trusted = chain.ChainStatus.All(s => (s.Status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain
            | X509ChainStatusFlags.NotSignatureValid | X509ChainStatusFlags.ExplicitDistrust)) == 0);
        try
        {
            for (var i = 0; trusted && i < elements.Count - 1; i++)
            {
                if (!trust.RevocationByIssuer.TryGetValue(CertificatePolicy.Sha256Fingerprint(elements[i + 1]), out var view)) continue;
                if (view.Policy.UseDistributionPoints && distributionPoints is not null
                    && Revocation.CrlDistributionPoints.Read(elements[i]) is { Count: > 0 } urls)
                    await distributionPoints(view.Policy, urls, cancellationToken);
                if (ocsp is not null && view.Policy.OcspResponderFor(elements[i]) is { } responder)
                    await ocsp.EnsureAsync(elements[i], elements[i + 1], responder, cancellationToken);
            }
        }
        finally
        {
            foreach (var element in elements) element.Dispose();
        }
    }

    private X509Chain BuildChain(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, TrustStore trust) =>
        Chains.Build(leaf, trust.Roots, trust.Intermediates, presented, time.GetUtcNow());

    public CertificateValidationResult Validate(X509Certificate2 leaf, IReadOnlyList<X509Certificate2>? presentedIntermediates = null)
    {
        try
        {
            return ValidateCore(leaf, presentedIntermediates);
        }
        catch (CryptographicException e)
        {
            // Found by fuzzing the forwarded-certificate path (issue 18): DER the runtime loads can still make the
            // chain builder (OpenSSL's X509_verify_cert) or a field's first read throw. Such a certificate is refused.
            return Refuse(CertificateRefusal.ClientCertInvalid,
                $"the client certificate could not be checked: the platform failed on it ({e.Message}); it is malformed");
        }
    }

    private CertificateValidationResult ValidateCore(X509Certificate2 leaf, IReadOnlyList<X509Certificate2>? presentedIntermediates)
    {
        var trust = trustStore();
        var presented = presentedIntermediates ?? [];

        // 1. Cheap caps and policy on what the client sent, before any chain work.
        if (presented.Count + 1 > options.MaxChainDepth)
            return Refuse(CertificateRefusal.ClientCertMaxChainDepthExceeded,
                $"the client sent {presented.Count + 1} certificates; at most {options.MaxChainDepth} are accepted in a chain");
        foreach (var certificate in presented.Prepend(leaf))
        {
            var problem = CertificatePolicy.CheckKeyAndVersion(certificate) ?? CertificatePolicy.CheckSignatureAlgorithm(certificate);
            if (problem is not null)
                return Refuse(CertificateRefusal.ClientCertTypeUnsupported, $"certificate {CertificatePolicy.Describe(certificate)} is not accepted: {problem}");
        }
        if (CertificatePolicy.IsCertificateAuthority(leaf))
            return Refuse(CertificateRefusal.ClientCertPurposeInvalid, $"{CertificatePolicy.Describe(leaf)} is a CA certificate and cannot identify a client");
        if (!CertificatePolicy.AllowsClientAuth(leaf))
            return Refuse(CertificateRefusal.ClientCertPurposeInvalid,
                $"{CertificatePolicy.Describe(leaf)} is not for client authentication (its extended key usage lacks clientAuth)");

        // 2. Build the chain under an explicit policy: only our anchors, nothing fetched, revocation done by us below.
        using var chain = BuildChain(leaf, presented, trust);
        var elements = chain.ChainElements.Select(e => e.Certificate).ToList();
        try
        {
            return Judge(chain, elements, trust);
        }
        finally
        {
            foreach (var element in elements) element.Dispose();
        }
    }

    private CertificateValidationResult Judge(X509Chain chain, List<X509Certificate2> elements, TrustStore trust)
    {
        var leaf = elements[0];
        var flags = ChainStatus.Flags(chain);

        // 3. Map chain status, most fundamental first: whose it is, then whether it is intact, then when.
        if ((flags & ChainStatus.Untrusted) != 0)
            return Refuse(CertificateRefusal.ClientCertUntrusted,
                $"{CertificatePolicy.Describe(leaf)} does not chain to a trusted CA (issuer {leaf.Issuer}); it must be issued by the Gatehouse user CA or a CA in trust.client_ca_files");
        if ((flags & X509ChainStatusFlags.NotValidForUsage) != 0)
            return Refuse(CertificateRefusal.ClientCertPurposeInvalid, $"a CA in the chain of {CertificatePolicy.Describe(leaf)} is not allowed to issue client certificates");
        if (ChainStatus.Structural(flags) != X509ChainStatusFlags.NoError)
            return Refuse(CertificateRefusal.ClientCertInvalid, $"the chain of {CertificatePolicy.Describe(leaf)} is invalid: {ChainStatus.Describe(chain)}");
        if (elements.Count > options.MaxChainDepth)
            return Refuse(CertificateRefusal.ClientCertMaxChainDepthExceeded,
                $"the chain of {CertificatePolicy.Describe(leaf)} has {elements.Count} certificates; at most {options.MaxChainDepth} are accepted");
        var now = time.GetUtcNow();
        foreach (var certificate in elements)
        {
            if (now < certificate.NotBefore.ToUniversalTime())
                return Refuse(CertificateRefusal.ClientCertNotYetValid, $"{CertificatePolicy.Describe(certificate)} is not valid before {certificate.NotBefore.ToUniversalTime():u}");
            if (now > certificate.NotAfter.ToUniversalTime())
                return Refuse(CertificateRefusal.ClientCertExpired, $"{CertificatePolicy.Describe(certificate)} expired at {certificate.NotAfter.ToUniversalTime():u}; get a new certificate");
        }
        if ((flags & ChainStatus.Time) != 0)
            return Refuse(CertificateRefusal.ClientCertInvalid, $"the validity periods in the chain of {CertificatePolicy.Describe(leaf)} do not nest");

        // 4. Policy on the CAs the chain builder found (the presented ones were checked already).
        for (var i = 1; i < elements.Count; i++)
        {
            var ca = elements[i];
            var problem = CertificatePolicy.CheckKeyAndVersion(ca) ?? (i < elements.Count - 1 ? CertificatePolicy.CheckSignatureAlgorithm(ca) : null);
            if (problem is not null)
                return Refuse(CertificateRefusal.ClientCertTypeUnsupported, $"CA certificate {CertificatePolicy.Describe(ca)} is not accepted: {problem}");
            if (i < elements.Count - 1 && !CertificatePolicy.AllowsClientAuth(ca))
                return Refuse(CertificateRefusal.ClientCertPurposeInvalid, $"intermediate CA {CertificatePolicy.Describe(ca)} is restricted to other purposes than client authentication");
        }

        // 5. Revocation of every certificate below the anchor, by its issuer's revocation view.
        var issuedByGatehouse = elements.Count == 2 && elements[1].RawDataMemory.Span.SequenceEqual(trust.GatehouseUserCa.RawDataMemory.Span);
        var revocation = new RevocationJudgement(now);
        for (var i = 0; i < elements.Count - 1; i++)
        {
            var certificate = elements[i];
            var issuer = elements[i + 1];
            if (issuer.RawDataMemory.Span.SequenceEqual(trust.GatehouseUserCa.RawDataMemory.Span))
            {
                if (trust.RevokedGatehouseSerials.Contains(SerialNumbers.Of(certificate)))
                    return Refuse(CertificateRefusal.ClientCertCrlHit, $"{CertificatePolicy.Describe(certificate)} (serial {SerialNumbers.Of(certificate)}) was revoked");
                continue;
            }
            if (trust.RevocationByIssuer.TryGetValue(CertificatePolicy.Sha256Fingerprint(issuer), out var view)
                && revocation.Judge(certificate, view, OcspFor(certificate, issuer, view)) is { } refused)
                return refused;
        }
        return new CertificateValidationResult(null, $"{CertificatePolicy.Describe(leaf)} is valid", issuedByGatehouse, elements.Count)
        {
            RecheckBy = revocation.RecheckBy,
            Warning = revocation.Warning,
        };
    }

    /// <summary>What OCSP said about <paramref name="certificate"/>, when its issuer's policy asks OCSP (null: it does not).</summary>
    private RevocationJudgement.OcspInput? OcspFor(X509Certificate2 certificate, X509Certificate2 issuer, CaRevocation view)
    {
        if (view.Policy.Ocsp == Revocation.OcspMode.Off) return null;
        if (view.Policy.OcspResponderFor(certificate) is not { } responder)
            return new(null, null, "the certificate names no OCSP responder (authority information access) and none is configured");
        return ocsp?.Cached(certificate, issuer) is { } check
            ? new(responder, check, null)
            : new(responder, null, $"the OCSP responder {Revocation.CrlCache.Display(responder)} has not answered yet");
    }

    internal static CertificateValidationResult Refuse(CertificateRefusal refusal, string message) => new(refusal, message, false, 0);
}
