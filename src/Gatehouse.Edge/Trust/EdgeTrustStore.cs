using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Edge.Configuration;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Validation;

namespace Gatehouse.Edge.Trust;

/// <summary>
/// A trust store held to ALB's rules (spec §1.6, quotas §1.2/§1.6): one PEM bundle with no blank lines, '#' comments that
/// contain no '-', at most 25 CA certificates of at most 16 KB each and 10,000 bytes of subject names; at most 30 CRLs
/// of at most 50 MB and 500,000 entries in all, each signed by a CA of the bundle. A bundle or CRL the ALB would refuse is
/// refused with the error the ALB API names (<c>InvalidCaCertificatesBundle</c>, <c>InvalidRevocationContent</c>, …).
/// </summary>
internal sealed class EdgeTrustStore
{
    public const int MaxCaCertificates = 25, MaxCaCertificateBytes = 16 * 1024, MaxSubjectBytes = 10_000;
    public const int MaxCrls = 30, MaxRevocationEntries = 500_000;
    public const long MaxCrlBytes = 50L * 1024 * 1024;

    private EdgeTrustStore(X509Certificate2Collection roots, X509Certificate2Collection intermediates, IReadOnlyDictionary<string, CertificateRevocationList> crls)
    {
        Roots = roots;
        Intermediates = intermediates;
        CrlsByIssuer = crls;
    }

    /// <summary>Self-signed CAs of the bundle: the anchors.</summary>
    public X509Certificate2Collection Roots { get; }

    /// <summary>The bundle's other CAs: offered to the chain builder.</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>Signature-checked CRLs by their issuer's SHA-256 fingerprint.</summary>
    public IReadOnlyDictionary<string, CertificateRevocationList> CrlsByIssuer { get; }

    /// <summary>Every CA of the bundle, for the CertificateRequest's CA names (advertise_trust_store_ca_names).</summary>
    public X509Certificate2Collection All => [.. Roots, .. Intermediates];

    /// <summary>Reads and checks the files; every problem is added to <paramref name="errors"/> under <paramref name="key"/>.</summary>
    public static EdgeTrustStore? Load(TrustStoreOptions options, string key, List<string> errors)
    {
        var before = errors.Count;
        var certificates = ReadBundle(options.CaBundle, $"{key}.ca_bundle", errors);
        var roots = new X509Certificate2Collection();
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in certificates)
            (CertificatePolicy.IsSelfIssued(certificate) ? roots : intermediates).Add(certificate);
        if (certificates.Count > 0 && roots.Count == 0)
            errors.Add($"{key}.ca_bundle: InvalidCaCertificatesBundle: {options.CaBundle} holds no self-signed root CA; add the root the client certificates chain to");

        var crls = new Dictionary<string, CertificateRevocationList>();
        if (options.Crls.Count > MaxCrls)
            errors.Add($"{key}.crls: TooManyTrustStoreRevocations: {options.Crls.Count} CRLs; a trust store takes at most {MaxCrls}");
        long entries = 0;
        for (var i = 0; i < options.Crls.Count; i++)
        {
            var crl = ReadCrl(options.Crls[i], $"{key}.crls[{i}]", certificates, errors, out var issuer);
            if (crl is null) continue;
            entries += crl.Count;
            var fingerprint = CertificatePolicy.Sha256Fingerprint(issuer!);
            // Two CRLs of one CA: the newer (higher CRL number) is in force, as a CA's CRL replaces its predecessor.
            if (!crls.TryGetValue(fingerprint, out var other) || (crl.CrlNumber ?? -1) > (other.CrlNumber ?? -1)) crls[fingerprint] = crl;
        }
        if (entries > MaxRevocationEntries)
            errors.Add($"{key}.crls: TooManyTrustStoreRevocationEntries: {entries} revoked serials in all; a trust store takes at most {MaxRevocationEntries}");
        return errors.Count == before ? new EdgeTrustStore(roots, intermediates, crls) : null;
    }

    private static List<X509Certificate2> ReadBundle(string path, string key, List<string> errors)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{key}: CaCertificatesBundleNotFound: cannot read {path} ({e.Message.TrimEnd('.')})");
            return [];
        }
        var problems = new List<string>();
        var certificates = new List<X509Certificate2>();
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        var count = text.EndsWith('\n') ? lines.Length - 1 : lines.Length; // the final newline ends the last line, it is no blank line
        var inBlock = false;
        var block = new System.Text.StringBuilder();
        for (var n = 0; n < count; n++)
        {
            var line = lines[n];
            var where = $"line {n + 1}";
            if (line.Trim().Length == 0) { problems.Add($"{where} is blank; the ALB takes no blank lines in a CA bundle"); continue; }
            if (!inBlock && line.StartsWith('#'))
            {
                if (line.Contains('-')) problems.Add($"{where} is a comment containing '-'; ALB comments must not contain '-'");
                continue;
            }
            if (!inBlock && line.Trim() == "-----BEGIN CERTIFICATE-----") { inBlock = true; block.Clear().Append(line).Append('\n'); continue; }
            if (!inBlock) { problems.Add($"{where} is neither a '#' comment nor the start of a -----BEGIN CERTIFICATE----- block"); continue; }
            block.Append(line).Append('\n');
            if (line.Trim() != "-----END CERTIFICATE-----") continue;
            inBlock = false;
            var certificate = Parse(block.ToString(), where, problems);
            if (certificate is not null) certificates.Add(certificate);
        }
        if (inBlock) problems.Add("the last CERTIFICATE block has no -----END CERTIFICATE----- line");
        if (certificates.Count == 0 && problems.Count == 0) problems.Add("it holds no CERTIFICATE block");
        if (certificates.Count > MaxCaCertificates)
            problems.Add($"it holds {certificates.Count} CA certificates; a trust store takes at most {MaxCaCertificates} (the ALB quota)");
        var subjectBytes = certificates.Sum(c => c.SubjectName.RawData.Length);
        if (subjectBytes > MaxSubjectBytes)
            problems.Add($"its CA subject names take {subjectBytes} bytes; the ALB quota is {MaxSubjectBytes}");
        foreach (var problem in problems) errors.Add($"{key}: InvalidCaCertificatesBundle: {path}: {problem}");
        return problems.Count == 0 ? certificates : [];
    }

    private static X509Certificate2? Parse(string pem, string where, List<string> problems)
    {
        X509Certificate2 certificate;
        try { certificate = X509Certificate2.CreateFromPem(pem); }
        catch (CryptographicException e)
        {
            problems.Add($"the CERTIFICATE block ending at {where} is not a certificate ({e.Message.TrimEnd('.')})");
            return null;
        }
        var problem = certificate.RawData.Length > MaxCaCertificateBytes ? $"it is {certificate.RawData.Length} bytes; the ALB takes at most {MaxCaCertificateBytes}"
            : CertificatePolicy.CheckKeyAndVersion(certificate)
            ?? (CertificatePolicy.IsCertificateAuthority(certificate) ? null : "it is not a CA certificate (basicConstraints cA is not set)");
        if (problem is null) return certificate;
        problems.Add($"the certificate ending at {where} ({CertificatePolicy.Describe(certificate)}) cannot be in a trust store: {problem}");
        certificate.Dispose();
        return null;
    }

    private static CertificateRevocationList? ReadCrl(string path, string key, List<X509Certificate2> cas, List<string> errors, out X509Certificate2? issuer)
    {
        issuer = null;
        byte[] contents;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxCrlBytes)
            {
                errors.Add($"{key}: InvalidRevocationContent: {path} is {info.Length} bytes; a revocation file may be at most 50 MB");
                return null;
            }
            contents = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{key}: RevocationContentNotFound: cannot read {path} ({e.Message.TrimEnd('.')})");
            return null;
        }
        var parsed = CertificateRevocationList.Parse(contents);
        if (parsed.Crl is not { } crl)
        {
            errors.Add($"{key}: InvalidRevocationContent: {path}: {parsed.Error?.TrimEnd('.')}");
            return null;
        }
        var candidates = cas.Where(crl.IsIssuedBy).ToList();
        if (candidates.Count == 0)
        {
            errors.Add($"{key}: InvalidRevocationContent: {path} is issued by {crl.Issuer.Name}, which is not a CA of the trust store's bundle");
            return null;
        }
        string? rejected = null;
        foreach (var candidate in candidates)
        {
            var check = crl.VerifySignature(candidate);
            if (check.IsValid) { issuer = candidate; return crl; }
            rejected ??= check.Error;
        }
        errors.Add($"{key}: InvalidRevocationContent: {path}: the signature does not verify ({rejected})");
        return null;
    }
}
