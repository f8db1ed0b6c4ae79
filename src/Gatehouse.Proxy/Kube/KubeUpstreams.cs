using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Resources;
using Gatehouse.Pki.Trust;
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
        // A cluster CA publishes no CRL we could fetch here; kubeconfig clients do not check revocation either.
        return Chains.ChainsTo(cluster.CaCertificates, certificate, Chains.ServerAuth);
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values) client.Dispose();
    }
}
