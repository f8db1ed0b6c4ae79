using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Trust;

/// <summary>
/// "Does this certificate chain to these roots, for this purpose?" — for the places that pin a peer to one CA of their
/// own (the host CA a client trusts, a Kubernetes cluster's ca_file, a local proxy's own authority). Client identities go
/// through <see cref="Validation.CertificateValidator"/> instead, which adds revocation and the key policy.
/// </summary>
internal static class Chains
{
    public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1"), ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>
    /// True when <paramref name="presented"/> chains to one of <paramref name="roots"/> and nowhere else, with
    /// <paramref name="usage"/> in its extended key usage. Intermediates may come from <paramref name="intermediates"/>;
    /// nothing is downloaded and the operating system's revocation cache is not asked (STYLE: crypto policy is explicit).
    /// </summary>
    /// <summary>
    /// Builds <paramref name="leaf"/>'s chain toward <paramref name="roots"/> only, at <paramref name="at"/>, with the
    /// trust's own intermediates and what the peer <paramref name="presented"/> as candidates; no downloads, no revocation
    /// (the callers check revocation themselves, against their CRLs). The caller judges the chain and disposes it.
    /// </summary>
    public static X509Chain Build(X509Certificate2 leaf, IEnumerable<X509Certificate2> roots, IEnumerable<X509Certificate2> intermediates,
        IEnumerable<X509Certificate2> presented, DateTimeOffset at)
    {
        var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        foreach (var root in roots) policy.CustomTrustStore.Add(root);
        foreach (var certificate in intermediates.Concat(presented)) policy.ExtraStore.Add(certificate);
        policy.DisableCertificateDownloads = true;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.VerificationTime = at.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        try
        {
            chain.Build(leaf);
        }
        catch
        {
            // The builder throws on some malformed certificates (a point off its curve): callers refuse, nothing leaks.
            chain.Dispose();
            throw;
        }
        return chain;
    }

    public static bool ChainsTo(IEnumerable<X509Certificate2> roots, X509Certificate presented, Oid usage,
        X509Certificate2Collection? intermediates = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        foreach (var root in roots) chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        if (intermediates is not null) chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        var leaf = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        try
        {
            return chain.Build(leaf);
        }
        finally
        {
            foreach (var element in chain.ChainElements) element.Certificate.Dispose(); // copies made by the chain
            if (!ReferenceEquals(leaf, presented)) leaf.Dispose();
        }
    }
}
