using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Revocation;

/// <summary>What to do with a certificate whose revocation status no source could tell (issue 16: fail closed by default).</summary>
internal enum UnknownStatusAction { Refuse, Allow }

/// <summary>Whether and where OCSP (RFC 6960) is asked: not at all, the responder the certificate names in its
/// authority information access extension, or one configured URL.</summary>
internal enum OcspMode { Off, Auto, Url }

/// <summary>What to do with a certificate whose CA's CRL is past its nextUpdate plus the grace.</summary>
internal enum StaleCrlAction { Refuse, Warn }

/// <summary>
/// How the certificates of one company CA are checked for revocation (<c>trust.revocation[i]</c>). The CA is named by
/// a PEM file of its certificate or by its subject DN; its CRLs come from files and URLs (and, on request, from the
/// distribution points its certificates name). The old <c>trust.crl_files</c> stand for policies with the defaults,
/// bound to whichever trusted CA signed each file.
/// </summary>
/// <param name="Ca">The configured text: a file path (already resolved) or a DN such as <c>CN=Corp Issuing,O=Corp</c>.</param>
/// <param name="Key">Where in the configuration this policy came from, for messages (<c>trust.revocation[0]</c>).</param>
internal sealed record RevocationPolicy(string Ca, string Key, IReadOnlyList<string> CrlFiles, IReadOnlyList<Uri> CrlUrls)
{
    /// <summary>A CRL counts as fresh until its nextUpdate plus this much (clock skew, a publisher a little late).</summary>
    public static readonly TimeSpan DefaultStaleGrace = TimeSpan.FromHours(1);

    /// <summary>The policy of a CRL listed in the old <c>trust.crl_files</c>: refuse when unknown, refuse when stale.</summary>
    public static RevocationPolicy ForLegacyFile(string file) => new("", "trust.crl_files", [file], []);

    public UnknownStatusAction OnUnknown { get; init; } = UnknownStatusAction.Refuse;

    public StaleCrlAction OnStale { get; init; } = StaleCrlAction.Refuse;

    public TimeSpan StaleGrace { get; init; } = DefaultStaleGrace;

    /// <summary>How often <see cref="CrlUrls"/> are fetched again (a conditional GET: cheap when nothing changed); sooner
    /// when the CRL in force reaches its nextUpdate, and after a failure every 30 s or so.</summary>
    public TimeSpan RefreshInterval { get; init; } = DefaultRefreshInterval;

    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromMinutes(5);

    /// <summary>Also fetch the CRLs named in the certificates' CRL Distribution Points extension (RFC 5280 §4.2.1.13).</summary>
    public bool UseDistributionPoints { get; init; }

    public OcspMode Ocsp { get; init; } = OcspMode.Off;

    /// <summary>The responder when <see cref="Ocsp"/> is <see cref="OcspMode.Url"/>.</summary>
    public Uri? OcspUrl { get; init; }

    /// <summary>True when CRLs are among this policy's sources (the old crl_files always are).</summary>
    public bool HasCrlSources => !IsExplicit || CrlFiles.Count > 0 || CrlUrls.Count > 0 || UseDistributionPoints;

    /// <summary>The responder to ask about <paramref name="certificate"/>, or null (OCSP off, or auto and none named).</summary>
    public Uri? OcspResponderFor(X509Certificate2 certificate) => Ocsp switch
    {
        OcspMode.Url => OcspUrl,
        OcspMode.Auto => certificate.Extensions.OfType<X509AuthorityInformationAccessExtension>().FirstOrDefault()?.EnumerateOcspUris()
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null)
            .FirstOrDefault(u => u is not null),
        _ => null,
    };

    /// <summary>True for a policy written under <c>trust.revocation</c> (bound to a CA before any CRL is read).</summary>
    public bool IsExplicit => Ca.Length > 0;

    /// <summary>Does <see cref="Ca"/> name <paramref name="certificate"/>? A DN matches the subject (RFC 4514 text,
    /// compared after canonical formatting); a file matches a certificate with the same DER.</summary>
    public bool Names(X509Certificate2 certificate, X509Certificate2Collection? fileCertificates) =>
        fileCertificates is not null
            ? fileCertificates.Any(c => c.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            : DistinguishedNames.Equal(Ca, certificate.SubjectName);
}

/// <summary>Distinguished names as operators type them, compared with the ones in certificates.</summary>
internal static class DistinguishedNames
{
    /// <summary>True when <paramref name="text"/> (e.g. <c>CN=Corp Issuing, O=Corp</c>) is <paramref name="name"/>: both
    /// are put in one canonical text form (.NET's reversed RFC 4514 or forward order), compared case-insensitively.</summary>
    public static bool Equal(string text, X500DistinguishedName name)
    {
        X500DistinguishedName parsed;
        try { parsed = new X500DistinguishedName(text); }
        catch (System.Security.Cryptography.CryptographicException) { return false; }
        const X500DistinguishedNameFlags flags = X500DistinguishedNameFlags.UseCommas;
        var actual = name.Decode(flags);
        return string.Equals(parsed.Decode(flags), actual, StringComparison.OrdinalIgnoreCase)
            || string.Equals(parsed.Decode(flags | X500DistinguishedNameFlags.Reversed), actual, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True when <paramref name="text"/> parses as a DN (for configuration checks).</summary>
    public static bool IsDistinguishedName(string text)
    {
        try { return new X500DistinguishedName(text).RawData.Length > 2 && text.Contains('='); }
        catch (System.Security.Cryptography.CryptographicException) { return false; }
    }
}
