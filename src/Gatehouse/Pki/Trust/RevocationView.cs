using Gatehouse.Pki.Revocation;

namespace Gatehouse.Pki.Trust;

/// <summary>
/// One CRL source (a file, or the disk copy of a URL) as last read. A source that stops reading or verifying keeps its
/// last good CRL in force (<see cref="Crl"/>) and says why in <see cref="Error"/> (issue 16: fail closed, keep the last good).
/// </summary>
/// <param name="Source">The file path or the URL (without user information), as messages name it.</param>
/// <param name="IsUrl">True for a <c>crl_urls</c> entry (or a distribution point): its problems never stop a start.</param>
internal sealed record CrlSourceStatus(string Source, bool IsUrl, RevocationPolicy Policy)
{
    /// <summary>The CRL in force from this source: the latest one that read and verified, or null if none ever did.</summary>
    public CertificateRevocationList? Crl { get; init; }

    /// <summary>SHA-256 thumbprints of the trusted CAs whose key verified <see cref="Crl"/>.</summary>
    public IReadOnlyList<string> IssuerKeys { get; init; } = [];

    /// <summary>The CA a failed CRL names as its issuer, when that much could be read (so its certificates can be refused).</summary>
    public IReadOnlyList<string> ClaimedIssuerKeys { get; init; } = [];

    /// <summary>When <see cref="Crl"/> was read and verified.</summary>
    public DateTimeOffset? LoadedAt { get; init; }

    /// <summary>Why the latest read failed; null when it succeeded.</summary>
    public string? Error { get; init; }

    public bool IsOk => Error is null && Crl is not null;
}

/// <summary>What is known about the revocation of one trusted CA's certificates, as the validator reads it.</summary>
/// <param name="CaSubject">The CA's subject, for sentences (<c>CRL for CN=Corp Issuing, O=Corp</c>).</param>
/// <param name="Crl">The newest CRL in force for this CA (highest CRL number, then latest thisUpdate), or null.</param>
/// <param name="CrlSource">Where <paramref name="Crl"/> came from.</param>
/// <param name="Problems">Every source of this CA that is failing now, one sentence each naming it.</param>
internal sealed record CaRevocation(string CaSubject, RevocationPolicy Policy, CertificateRevocationList? Crl, string? CrlSource, IReadOnlyList<string> Problems)
{
    /// <summary>The CA itself (its key verifies fetched CRLs).</summary>
    public required System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate { get; init; }

    /// <summary>When <see cref="Crl"/> was last read and verified.</summary>
    public DateTimeOffset? LoadedAt { get; init; }

    /// <summary>A CRL in force, fresh, and no source of this CA failing.</summary>
    public bool IsHealthy(DateTimeOffset now) => Crl is not null && !IsStale(now) && Problems.Count == 0;

    /// <summary>When <paramref name="now"/> is past the CRL's nextUpdate plus the policy's grace.</summary>
    public bool IsStale(DateTimeOffset now) => Crl?.NextUpdate is { } next && now > next + Policy.StaleGrace;

    /// <summary>Until when a verdict built on this CRL holds: nextUpdate plus the grace (null: no end given).</summary>
    public DateTimeOffset? FreshUntil => Crl?.NextUpdate is { } next ? next + Policy.StaleGrace : null;
}
