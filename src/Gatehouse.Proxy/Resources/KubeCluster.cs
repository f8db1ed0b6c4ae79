using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Proxy.Resources;

/// <summary>
/// A Kubernetes API server behind the proxy (resources.kube_clusters[i]), with the proxy's own credentials there: a bearer
/// token or a client certificate, and the CA its serving certificate must chain to. Roles' kube_labels decide who may;
/// the proxy then impersonates the user (Impersonate-User / Impersonate-Group).
/// </summary>
/// <remarks>A class, not a record: a record's ToString would print the token.</remarks>
internal sealed class KubeCluster(string name, Uri apiServer, IReadOnlyDictionary<string, string> labels, X509Certificate2Collection caCertificates,
    string? bearerToken, X509Certificate2? clientCertificate) : IForwardedResource
{
    public string Name { get; } = name;

    /// <summary>The API server's https URL (an optional base path is kept).</summary>
    public Uri ApiServer { get; } = apiServer;

    public IReadOnlyDictionary<string, string> Labels { get; } = labels;

    /// <summary>The only roots the API server's certificate may chain to (ca_file).</summary>
    public X509Certificate2Collection CaCertificates { get; } = caCertificates;

    /// <summary>token_file's content, sent as <c>Authorization: Bearer</c>; null when a client certificate is used.</summary>
    public string? BearerToken { get; } = bearerToken;

    /// <summary>client_cert_file + client_key_file; null when a token is used.</summary>
    public X509Certificate2? ClientCertificate { get; } = clientCertificate;

    public string PathPrefix => $"/kube/{Name}";

    /// <summary>The audit resource name.</summary>
    public string Resource => $"kube:{Name}";

    Uri IForwardedResource.Upstream => ApiServer;

    public override string ToString() => $"kube cluster {Name} at {ApiServer}";
}
