using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;

namespace Gatehouse.Edge.Trust;

/// <summary>The connection log's <c>tls_verify_status</c> codes (spec §1.8); <see cref="Success"/> is written as is, the
/// others as <c>Failed:NAME</c>.</summary>
internal enum TlsVerifyStatus
{
    Success,
    ClientCertMaxChainDepthExceeded,
    ClientCertMaxSizeExceeded,
    ClientCertCrlHit,
    ClientCertCrlProcessingError,
    ClientCertUntrusted,
    ClientCertNotYetValid,
    ClientCertExpired,
    ClientCertTypeUnsupported,
    ClientCertInvalid,
    ClientCertPurposeInvalid,
    ClientCertRejected,
    UnmappedConnectionError,
}

/// <summary>A verify-mode verdict: the status the connection log shows and a sentence for the edge's own log.</summary>
internal sealed record ClientCertificateVerdict(TlsVerifyStatus Status, string Reason)
{
    public bool Accepted => Status == TlsVerifyStatus.Success;

    public string LogWord => Status == TlsVerifyStatus.Success ? "Success" : $"Failed:{Status}";
}

/// <summary>
/// Verify mode's check of a client's chain during the handshake (spec §1.2, §1.6): at most 4 certificates, each X.509v3
/// with an RSA 2048–8192 or P-256/384/521 key and a SHA-256/384/512 signature (RSA, PSS, ECDSA) — the core library's
/// <see cref="CertificatePolicy"/>, which follows the same ALB rules; a chain to a root of the trust store built with no
/// downloads and no OS revocation; validity (the leaf's expiry forgiven with ignore_client_certificate_expiry); a leaf
/// fit for client authentication; and the store's CRLs for every certificate below the anchor.
/// </summary>
internal sealed class ClientCertificateVerifier(EdgeTrustStore store, bool ignoreExpiry, TimeProvider time)
{
    public const int MaxChainDepth = 4;

    /// <param name="presented">What the client sent after its leaf, in its order.</param>
    public ClientCertificateVerdict Verify(X509Certificate2? leaf, IReadOnlyList<X509Certificate2> presented)
    {
        if (leaf is null) return new(TlsVerifyStatus.UnmappedConnectionError, "the client sent no certificate; this listener is in verify mode");
        if (presented.Count + 1 > MaxChainDepth)
            return new(TlsVerifyStatus.ClientCertMaxChainDepthExceeded, $"the client sent {presented.Count + 1} certificates; at most {MaxChainDepth} are accepted");
        foreach (var certificate in presented.Prepend(leaf))
            if ((CertificatePolicy.CheckKeyAndVersion(certificate) ?? CertificatePolicy.CheckSignatureAlgorithm(certificate)) is { } problem)
                return new(TlsVerifyStatus.ClientCertTypeUnsupported, $"{CertificatePolicy.Describe(certificate)}: {problem}");

        using var chain = Chains.Build(leaf, store.Roots, store.Intermediates, presented, time.GetUtcNow());
        var elements = chain.ChainElements.Select(e => e.Certificate).ToList();
        try
        {
            return Judge(chain, elements);
        }
        finally
        {
            foreach (var element in elements) element.Dispose();
        }
    }

    private ClientCertificateVerdict Judge(X509Chain chain, List<X509Certificate2> elements)
    {
        var leaf = elements[0];
        var flags = ChainStatus.Flags(chain);
        if ((flags & ChainStatus.Untrusted) != 0)
            return new(TlsVerifyStatus.ClientCertUntrusted, $"{CertificatePolicy.Describe(leaf)} (issuer {leaf.Issuer}) does not chain to a CA of the trust store");
        if (elements.Count > MaxChainDepth)
            return new(TlsVerifyStatus.ClientCertMaxChainDepthExceeded, $"the chain of {CertificatePolicy.Describe(leaf)} has {elements.Count} certificates; at most {MaxChainDepth}");
        if ((flags & X509ChainStatusFlags.NotValidForUsage) != 0)
            return new(TlsVerifyStatus.ClientCertPurposeInvalid, $"a CA in the chain of {CertificatePolicy.Describe(leaf)} may not issue client certificates");
        if (ChainStatus.Structural(flags) != X509ChainStatusFlags.NoError)
            return new(TlsVerifyStatus.ClientCertInvalid, $"the chain of {CertificatePolicy.Describe(leaf)} is invalid: {ChainStatus.Describe(chain)}");
        var now = time.GetUtcNow();
        for (var i = 0; i < elements.Count; i++)
        {
            var certificate = elements[i];
            if (now < certificate.NotBefore.ToUniversalTime())
                return new(TlsVerifyStatus.ClientCertNotYetValid, $"{CertificatePolicy.Describe(certificate)} is not valid before {certificate.NotBefore.ToUniversalTime():u}");
            if (now > certificate.NotAfter.ToUniversalTime() && !(i == 0 && ignoreExpiry))
                return new(TlsVerifyStatus.ClientCertExpired, $"{CertificatePolicy.Describe(certificate)} expired at {certificate.NotAfter.ToUniversalTime():u}");
        }
        if (CertificatePolicy.IsCertificateAuthority(leaf) || !CertificatePolicy.AllowsClientAuth(leaf))
            return new(TlsVerifyStatus.ClientCertPurposeInvalid, $"{CertificatePolicy.Describe(leaf)} is not a certificate for client authentication");
        for (var i = 0; i < elements.Count - 1; i++)
        {
            if (!store.CrlsByIssuer.TryGetValue(CertificatePolicy.Sha256Fingerprint(elements[i + 1]), out var crl)) continue;
            if (crl.IsRevoked(elements[i], out var entry))
                return new(TlsVerifyStatus.ClientCertCrlHit,
                    $"{CertificatePolicy.Describe(elements[i])} (serial {elements[i].SerialNumber}) is on the CRL of {elements[i + 1].Subject} since {entry.RevokedAt:u}");
        }
        return new(TlsVerifyStatus.Success, $"{CertificatePolicy.Describe(leaf)} verified");
    }
}
