using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Storage;

namespace Gatehouse.Cluster;

/// <summary>Everything needed to open a cluster's state; built and validated by the host from its configuration.</summary>
/// <param name="MasterKey">The value of GATEHOUSE_MASTER_KEY, if set.</param>
internal sealed record ClusterOptions(
    string ClusterName,
    string DataDirectory,
    KeyAlgorithm KeyAlgorithm,
    TrustOptions Trust,
    ValidationOptions Validation,
    string? MasterKey)
{
    public StoreOptions Storage { get; init; } = StoreOptions.Default;

    /// <summary>A JSON-lines file that receives every audit event besides the store (audit.file).</summary>
    public string? AuditFile { get; init; }

    /// <summary>The ceiling on every user certificate's lifetime (pki.max_user_cert_ttl).</summary>
    public TimeSpan MaxUserCertTtl { get; init; } = CertificateIssuer.DefaultMaxUserTtl;

    /// <summary>Where the user CA's CRL is served (pki.crl_url; by default the proxy's /v1/crl/user.crl), named in user
    /// certificates' CRL Distribution Points; null: none.</summary>
    public Uri? UserCrlUrl { get; init; }

    /// <summary>How company certificates become identities (identity_mappings).</summary>
    public IReadOnlyList<Identity.IdentityMappingRule> IdentityMappings { get; init; } = [];

    public const string DefaultClusterName = "gatehouse";
    public const string DefaultDataDirectory = "gatehouse-data";
}
