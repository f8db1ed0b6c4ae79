using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Validation;

namespace Gatehouse.Pki.Trust;

/// <param name="ClientCaFiles">PEM bundles of external CAs whose certificates may become identities.</param>
/// <param name="CrlFiles">External CRLs (PEM or DER), each signed by one of those CAs.</param>
internal sealed record TrustOptions(IReadOnlyList<string> ClientCaFiles, IReadOnlyList<string> CrlFiles)
{
    public static TrustOptions None { get; } = new([], []);
}

/// <summary>Builds a <see cref="TrustStore"/> from the operator's files; every problem is reported, none is fatal here.</summary>
internal static class TrustStoreLoader
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
        foreach (var file in options.ClientCaFiles.Concat(options.CrlFiles))
        {
            var info = new FileInfo(file);
            text.Append('|').Append(file).Append(':').Append(info.Exists ? $"{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "missing");
        }
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }

    public static TrustStore Load(X509Certificate2 gatehouseUserCa, IEnumerable<string> revokedSerials, TrustOptions options)
    {
        var revoked = revokedSerials.ToList();
        var errors = new List<string>();
        var roots = new X509Certificate2Collection { gatehouseUserCa };
        var intermediates = new X509Certificate2Collection();
        foreach (var file in options.ClientCaFiles)
            LoadBundle(file, roots, intermediates, errors);

        var crls = new Dictionary<string, CertificateRevocationList>();
        var broken = new Dictionary<string, string>();
        var authorities = roots.Concat(intermediates).ToList();
        foreach (var file in options.CrlFiles)
            LoadCrl(file, authorities, crls, broken, errors);
        foreach (var issuer in broken.Keys) crls.Remove(issuer);

        return new TrustStore
        {
            GatehouseUserCa = gatehouseUserCa,
            Roots = roots,
            Intermediates = intermediates,
            CrlsByIssuer = crls.ToFrozenDictionary(),
            BrokenCrlIssuers = broken.ToFrozenDictionary(),
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

    private static void LoadCrl(string file, List<X509Certificate2> authorities, Dictionary<string, CertificateRevocationList> crls,
        Dictionary<string, string> broken, List<string> errors)
    {
        byte[] contents;
        try { contents = File.ReadAllBytes(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{file}: cannot read the CRL ({e.Message.TrimEnd('.')}).");
            return;
        }
        var parsed = CertificateRevocationList.Parse(contents);
        if (parsed.Crl is not { } crl)
        {
            errors.Add($"{file}: {parsed.Error}");
            return;
        }
        var candidates = authorities.Where(crl.IsIssuedBy).ToList();
        if (candidates.Count == 0)
        {
            errors.Add($"{file}: the CRL's issuer {crl.Issuer.Name} is not one of the trusted CAs; add its CA certificate to trust.client_ca_files.");
            return;
        }
        foreach (var issuer in candidates)
        {
            var key = CertificatePolicy.Sha256Fingerprint(issuer);
            var check = crl.VerifySignature(issuer);
            if (!check.IsValid)
            {
                // Fail closed: a CA whose revocation list we were given but cannot trust has its certificates refused.
                var reason = $"{file}: the CRL was rejected: {check.Error}";
                errors.Add(reason);
                broken[key] = reason;
                continue;
            }
            if (!crls.TryGetValue(key, out var existing) || (crl.CrlNumber ?? 0) >= (existing.CrlNumber ?? 0))
                crls[key] = crl;
        }
    }
}
