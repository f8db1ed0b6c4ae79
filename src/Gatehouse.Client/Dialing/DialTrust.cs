using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Trust;
using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>
/// The two certificate checks of a dial (STYLE habit 5). The inner TLS trusts only the cluster's host CA and the name
/// <see cref="ProxyProtocol.InternalHostName"/>; the outer TLS of a tunnel ends at whatever balancer is in front, so
/// it accepts the system store, the host CA, or anything with --insecure.
/// </summary>
internal static class DialTrust
{

    public static SslClientAuthenticationOptions InnerOptions(DialerOptions options, string alpn) => new()
    {
        TargetHost = ProxyProtocol.InternalHostName,
        ApplicationProtocols = [new SslApplicationProtocol(alpn)],
        // A context (not a collection) so the certificate is sent whatever issuers the server lists: always offered.
        ClientCertificateContext = options.ClientCertificate is { } c ? SslStreamCertificateContext.Create(c, null) : null,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, chain, errors) => CheckInner(options.HostCa, certificate, chain, errors),
    };

    public static bool CheckInner(X509Certificate2? hostCa, X509Certificate? presented, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        if (hostCa is null || presented is null) return false;
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        return ChainsTo(hostCa, presented, presentedChain);
    }

    public static bool CheckOuter(DialerOptions options, X509Certificate? presented, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        if (options.Insecure || errors == SslPolicyErrors.None) return true;
        if (options.HostCa is null || presented is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        return ChainsTo(options.HostCa, presented, presentedChain);
    }

    private static bool ChainsTo(X509Certificate2 root, X509Certificate presented, X509Chain? presentedChain) =>
        Chains.ChainsTo([root], presented, Chains.ServerAuth, presentedChain?.ChainPolicy.ExtraStore);
}
