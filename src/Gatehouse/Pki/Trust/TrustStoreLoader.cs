using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Validation;

namespace Gatehouse.Pki.Trust;

/// <param name="ClientCaFiles">PEM bundles of external CAs whose certificates may become identities.</param>
/// <param name="CrlFiles">External CRLs (PEM or DER), each signed by one of those CAs (the old form: default policy).</param>
internal sealed record TrustOptions(IReadOnlyList<string> ClientCaFiles, IReadOnlyList<string> CrlFiles)
{
    public static TrustOptions None { get; } = new([], []);

    /// <summary>Per-CA revocation policies (<c>trust.revocation</c>).</summary>
    public IReadOnlyList<RevocationPolicy> Revocation { get; init; } = [];

    /// <summary>Where CRLs fetched from URLs are kept (the data directory's crl-cache), so a restart without network
    /// still has the last good copy; null: URLs are not read.</summary>
    public string? CrlCacheDirectory { get; init; }
}

/// <summary>Builds a <see cref="TrustStore"/> from the operator's files; every problem is reported, none is fatal here.</summary>
internal static partial class TrustStoreLoader
{
    private static long _version;

    /// <summary>
    /// A cheap summary of everything a view is built from: the user CA, the revoked serials, and each trust file's path,
    /// size and modification time. The proxy rebuilds its view (and so its verdict cache) only when this changes, which
    /// is also how edited CA bundles and CRL files are picked up without a restart.
    /// </summary>
    public static string Fingerprint(X509Certificate2 gatehouseUserCa, IEnumerable<string> revokedSerials, TrustOptions options)
    {
        var text = new System.Text.StringBuilder(gatehouseUserCa.Thumbprint);
        foreach (var serial in revokedSerials.Order(StringComparer.Ordinal)) text.Append('|').Append(serial);
        foreach (var file in options.ClientCaFiles.Concat(options.CrlFiles).Concat(RevocationFiles(options)))
        {
            var info = new FileInfo(file);
            text.Append('|').Append(file).Append(':').Append(info.Exists ? $"{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "missing");
        }
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <param name="previous">The view in force: a CRL source that fails now keeps the CRL it had there.</param>
    public static TrustStore Load(X509Certificate2 gatehouseUserCa, IEnumerable<string> revokedSerials, TrustOptions options,
        TrustStore? previous = null, DateTimeOffset? now = null)
    {
        var revoked = revokedSerials.ToList();
        var errors = new List<string>();
        var roots = new X509Certificate2Collection { gatehouseUserCa };
        var intermediates = new X509Certificate2Collection();
        foreach (var file in options.ClientCaFiles)
            LoadBundle(file, roots, intermediates, errors);

        var authorities = roots.Concat(intermediates).ToList();
        var sources = LoadCrlSources(options, authorities, previous, now ?? DateTimeOffset.UtcNow, errors);
        var revocation = RevocationByIssuer(options, authorities, sources, errors);

        return new TrustStore
        {
            GatehouseUserCa = gatehouseUserCa,
            Roots = roots,
            Intermediates = intermediates,
            RevocationByIssuer = revocation.ToFrozenDictionary(),
            CrlSources = sources,
            RevokedGatehouseSerials = revoked.ToFrozenSet(StringComparer.Ordinal),
            Errors = errors,
            Version = Interlocked.Increment(ref _version),
            Fingerprint = Fingerprint(gatehouseUserCa, revoked, options),
        };
    }

    private static void LoadBundle(string file, X509Certificate2Collection roots, X509Certificate2Collection intermediates, List<string> errors)
    {
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            errors.Add($"{file}: cannot read the CA bundle ({e.Message.TrimEnd('.')}); give a readable file of PEM 'CERTIFICATE' blocks.");
            return;
        }
        if (bundle.Count == 0)
        {
            errors.Add($"{file}: no PEM 'CERTIFICATE' blocks found; a CA bundle is one or more -----BEGIN CERTIFICATE----- blocks.");
            return;
        }
        foreach (var certificate in bundle)
        {
            var problem = CertificatePolicy.CheckKeyAndVersion(certificate)
                ?? (CertificatePolicy.IsCertificateAuthority(certificate) ? null : "it is not a CA certificate (basicConstraints cA is not set)");
            if (problem is not null)
            {
                errors.Add($"{file}: certificate {CertificatePolicy.Describe(certificate)} cannot be a trust anchor: {problem}.");
                continue;
            }
            (CertificatePolicy.IsSelfIssued(certificate) ? roots : intermediates).Add(certificate);
        }
    }

}
