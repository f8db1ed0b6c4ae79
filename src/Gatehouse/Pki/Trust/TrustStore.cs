using System.Collections.Frozen;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;

namespace Gatehouse.Pki.Trust;

/// <summary>
/// One consistent view of what the cluster trusts: the Gatehouse user CA and the operator's external CAs as anchors,
/// intermediates from the bundles, the signature-checked external CRLs, and the cluster's own revocations.
/// Immutable: a reload builds a new one with a higher <see cref="Version"/>.
/// </summary>
internal sealed class TrustStore
{
    public required X509Certificate2 GatehouseUserCa { get; init; }

    /// <summary>Self-signed anchors: the Gatehouse user CA first, then external roots.</summary>
    public required X509Certificate2Collection Roots { get; init; }

    /// <summary>Intermediate CAs from the operator's bundles (offered to the chain builder, not trusted on their own).</summary>
    public required X509Certificate2Collection Intermediates { get; init; }

    /// <summary>
    /// The revocation view of every CA that has a revocation policy, by the CA's thumbprint (SHA-256 hex). A CA listed
    /// here with no CRL in force has its certificates refused unless its policy says otherwise (fail closed).
    /// </summary>
    public required FrozenDictionary<string, CaRevocation> RevocationByIssuer { get; init; }

    /// <summary>Every CRL source with its CRL in force and its current problem, for /healthz, metrics and the log.</summary>
    public IReadOnlyList<CrlSourceStatus> CrlSources { get; init; } = [];

    /// <summary>Serials (canonical hex) the cluster revoked under its user CA.</summary>
    public required FrozenSet<string> RevokedGatehouseSerials { get; init; }

    /// <summary>Every problem met while loading, one line each naming the file.</summary>
    public required IReadOnlyList<string> Errors { get; init; }

    public long Version { get; init; }

    /// <summary>What the view was built from (see <see cref="TrustStoreLoader.Fingerprint"/>): equal fingerprints, same view.</summary>
    public string Fingerprint { get; init; } = "";

    /// <summary>The ALB trust-store bundle: the anchors and intermediates as PEM blocks, no blank lines, no comments.</summary>
    public string ExportBundle() =>
        string.Concat(Roots.Concat(Intermediates).Select(c => c.ExportCertificatePem().ReplaceLineEndings("\n") + "\n"));
}
