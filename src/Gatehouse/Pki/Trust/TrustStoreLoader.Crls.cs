using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Validation;

namespace Gatehouse.Pki.Trust;

internal static partial class TrustStoreLoader
{
    /// <summary>Files besides the bundles and the old crl_files that a view is built from (for the fingerprint).</summary>
    private static IEnumerable<string> RevocationFiles(TrustOptions options)
    {
        foreach (var policy in options.Revocation)
        {
            foreach (var file in policy.CrlFiles) yield return file;
            if (File.Exists(policy.Ca)) yield return policy.Ca;
            if (options.CrlCacheDirectory is not { } cache) continue;
            foreach (var url in policy.CrlUrls)
            {
                yield return CrlCache.CrlPath(cache, url);
                yield return CrlCache.ErrorPath(cache, url);
            }
        }
    }

    private sealed record SourceToRead(string Source, string Path, bool IsUrl, RevocationPolicy Policy, string? FetchErrorPath);

    private static IEnumerable<SourceToRead> SourcesOf(TrustOptions options)
    {
        foreach (var file in options.CrlFiles)
            yield return new(file, file, false, RevocationPolicy.ForLegacyFile(file), null);
        foreach (var policy in options.Revocation)
        {
            foreach (var file in policy.CrlFiles)
                yield return new(file, file, false, policy, null);
            if (options.CrlCacheDirectory is not { } cache) continue;
            foreach (var url in policy.CrlUrls)
                yield return new(CrlCache.Display(url), CrlCache.CrlPath(cache, url), true, policy, CrlCache.ErrorPath(cache, url));
        }
    }

    /// <summary>
    /// Reads every CRL source. A source that fails now keeps the CRL it had in <paramref name="previous"/> when that CRL
    /// still verifies against a trusted CA (fail closed, keep the last good); so does one that now holds an older CRL
    /// (a lower CRL number: a replayed list must not bring revoked certificates back).
    /// </summary>
    private static List<CrlSourceStatus> LoadCrlSources(TrustOptions options, List<X509Certificate2> authorities, TrustStore? previous,
        DateTimeOffset now, List<string> errors)
    {
        var statuses = new List<CrlSourceStatus>();
        foreach (var source in SourcesOf(options))
        {
            var status = Read(source, authorities, now);
            var before = previous?.CrlSources.FirstOrDefault(s => s.Source == source.Source && s.Policy.Key == source.Policy.Key);
            if (status.IsOk && before?.Crl is { } older && status.Crl!.CrlNumber < older.CrlNumber)
                status = status with { Crl = null, IssuerKeys = [], Error = $"{source.Source}: the CRL now there (number {status.Crl.CrlNumber}) is older than the one in force (number {older.CrlNumber})" };
            if (!status.IsOk && before?.Crl is { } lastGood)
            {
                var keys = VerifyingKeys(lastGood, authorities);
                if (keys.Count > 0)
                    status = status with
                    {
                        Crl = lastGood, IssuerKeys = keys, LoadedAt = before.LoadedAt,
                        Error = $"{status.Error}; the copy read at {before.LoadedAt:u} (thisUpdate {lastGood.ThisUpdate:u}) stays in force",
                    };
            }
            // A file that cannot be used is a configuration problem (a start stops on it); a URL's is the network's.
            if (status.Error is { } error && !source.IsUrl)
                errors.Add(error);
            statuses.Add(status);
        }
        return statuses;
    }

    private static CrlSourceStatus Read(SourceToRead source, List<X509Certificate2> authorities, DateTimeOffset now)
    {
        var status = new CrlSourceStatus(source.Source, source.IsUrl, source.Policy);
        byte[] contents;
        try { contents = File.ReadAllBytes(source.Path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (source.IsUrl)
                return status with { Error = $"{source.Source}: {FetchError(source.FetchErrorPath) ?? "not fetched yet"}" };
            return status with { Error = $"{source.Source}: cannot read the CRL ({e.Message.TrimEnd('.')})" };
        }
        var parsed = CertificateRevocationList.Parse(contents);
        if (parsed.Crl is not { } crl)
            return status with { Error = $"{source.Source}: {parsed.Error?.TrimEnd('.')}" };
        var candidates = authorities.Where(crl.IsIssuedBy).ToList();
        if (candidates.Count == 0)
            return status with { Error = $"{source.Source}: the CRL's issuer {crl.Issuer.Name} is not one of the trusted CAs; add its CA certificate to trust.client_ca_files" };
        var keys = new List<string>();
        string? rejected = null;
        foreach (var issuer in candidates)
        {
            var check = crl.VerifySignature(issuer);
            if (check.IsValid) keys.Add(CertificatePolicy.Sha256Fingerprint(issuer));
            else rejected ??= check.Error;
        }
        var claimed = candidates.Select(CertificatePolicy.Sha256Fingerprint).ToList();
        if (keys.Count == 0)
            return status with { ClaimedIssuerKeys = claimed, Error = $"{source.Source}: the CRL was rejected: {rejected}" };
        // A URL's copy was verified when fetched; its fetch may be failing now, which the error file says.
        var fetchError = source.IsUrl ? FetchError(source.FetchErrorPath) : null;
        return status with
        {
            Crl = crl, IssuerKeys = keys, ClaimedIssuerKeys = claimed, LoadedAt = now,
            Error = fetchError is null ? null : $"{source.Source}: {fetchError}; the copy fetched before (thisUpdate {crl.ThisUpdate:u}) stays in force",
        };
    }

    private static List<string> VerifyingKeys(CertificateRevocationList crl, List<X509Certificate2> authorities) =>
        authorities.Where(a => crl.IsIssuedBy(a) && crl.VerifySignature(a).IsValid).Select(CertificatePolicy.Sha256Fingerprint).ToList();

    private static string? FetchError(string? path)
    {
        if (path is null) return null;
        try { return File.Exists(path) ? File.ReadAllText(path).Trim() : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The revocation view per CA: each explicit policy binds the CAs it names (whether or not any CRL loaded: a CA whose
    /// sources never loaded refuses its certificates), then each old crl_files CRL binds the CA that signed it (or, when
    /// its signature failed, the CA it names).
    /// </summary>
    private static Dictionary<string, CaRevocation> RevocationByIssuer(TrustOptions options, List<X509Certificate2> authorities,
        List<CrlSourceStatus> sources, List<string> errors)
    {
        var byIssuer = new Dictionary<string, CaRevocation>();
        for (var i = 0; i < options.Revocation.Count; i++)
        {
            var policy = options.Revocation[i];
            var cas = NamedCas(policy, authorities, errors);
            foreach (var ca in cas)
            {
                var key = CertificatePolicy.Sha256Fingerprint(ca);
                if (byIssuer.ContainsKey(key))
                {
                    errors.Add($"{policy.Key}.ca: {ca.Subject} already has a revocation policy above; give each CA one entry");
                    continue;
                }
                byIssuer[key] = Combine(ca, policy, sources.Where(s => s.Policy == policy), key);
            }
        }
        foreach (var ca in authorities)
        {
            var key = CertificatePolicy.Sha256Fingerprint(ca);
            if (byIssuer.ContainsKey(key)) continue;
            var legacy = sources.Where(s => !s.Policy.IsExplicit && (s.IssuerKeys.Contains(key) || s.ClaimedIssuerKeys.Contains(key))).ToList();
            if (legacy.Count > 0) byIssuer[key] = Combine(ca, legacy[0].Policy, legacy, key);
        }
        return byIssuer;
    }

    private static CaRevocation Combine(X509Certificate2 ca, RevocationPolicy policy, IEnumerable<CrlSourceStatus> sources, string key)
    {
        var mine = sources.ToList();
        var best = mine.Where(s => s.Crl is not null && s.IssuerKeys.Contains(key))
            .OrderByDescending(s => s.Crl!.CrlNumber ?? -1).ThenByDescending(s => s.Crl!.ThisUpdate).FirstOrDefault();
        var problems = mine.Where(s => s.Error is not null).Select(s => s.Error!).ToList();
        return new CaRevocation(ca.Subject, policy, best?.Crl, best?.Source, problems) { LoadedAt = best?.LoadedAt, Certificate = ca };
    }

    /// <summary>The trusted CAs a policy's <c>ca</c> names (a certificate file or a subject DN); none is a configuration error.</summary>
    private static List<X509Certificate2> NamedCas(RevocationPolicy policy, List<X509Certificate2> authorities, List<string> errors)
    {
        X509Certificate2Collection? files = null;
        if (!DistinguishedNames.IsDistinguishedName(policy.Ca) || File.Exists(policy.Ca))
        {
            files = [];
            try { files.ImportFromPemFile(policy.Ca); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                errors.Add($"{policy.Key}.ca: cannot read {policy.Ca} ({e.Message.TrimEnd('.')}); give the CA's PEM certificate file or its subject DN");
                return [];
            }
        }
        var named = authorities.Where(a => policy.Names(a, files)).ToList();
        if (named.Count == 0)
            errors.Add($"{policy.Key}.ca: {policy.Ca} is not one of the trusted CAs; add its certificate to trust.client_ca_files");
        return named;
    }
}
