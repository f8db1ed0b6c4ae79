using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Forwarding;

namespace Gatehouse.Proxy.Kube;

/// <summary>
/// One HTTP client per cluster (a DI singleton, disposed with the host): it trusts only the cluster's ca_file and, when
/// configured, presents the proxy's client certificate; otherwise the settings of every forwarding client
/// (<see cref="ForwardingHandler"/>) — bodies stream through untouched (watch, logs).
/// </summary>
internal sealed class KubeUpstreams : IDisposable
{
    private readonly Dictionary<string, HttpMessageInvoker> _clients = new(StringComparer.Ordinal);

    public KubeUpstreams(IEnumerable<KubeCluster> clusters)
    {
        foreach (var cluster in clusters) _clients[cluster.Name] = Create(cluster);
    }

    public HttpMessageInvoker For(KubeCluster cluster) => _clients[cluster.Name];

    private static HttpMessageInvoker Create(KubeCluster cluster)
    {
        var ssl = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(cluster, certificate, errors),
        };
        if (cluster.ClientCertificate is { } clientCertificate)
        {
            ssl.ClientCertificates = [clientCertificate];
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }
        var handler = ForwardingHandler.Create(ssl);
        handler.RequestHeaderEncodingSelector = (name, _) =>
            name.Equals(ImpersonateGroupEncoding.GroupHeader, StringComparison.OrdinalIgnoreCase) ? ImpersonateGroupEncoding.Instance : null;
        return new HttpMessageInvoker(handler);
    }

    /// <summary>The name must match (the platform checked it); the chain must end at one of ca_file's roots and nowhere else.</summary>
    private static bool IsTrusted(KubeCluster cluster, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cluster.CaCertificates);
        chain.ChainPolicy.DisableCertificateDownloads = true;
        // A cluster CA publishes no CRL we could fetch here; kubeconfig clients do not check revocation either.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")); // serverAuth
        try
        {
            return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        }
        finally
        {
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values) client.Dispose();
    }
}
