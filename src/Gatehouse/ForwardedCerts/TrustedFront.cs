using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.ForwardedCerts.Formats;

namespace Gatehouse.ForwardedCerts;

/// <summary>An extra proof a front sends on every request, for networks where the source address alone is not enough.</summary>
internal sealed record SharedSecretHeader(string Name, byte[] Value);

/// <summary>
/// A balancer whose client-certificate headers Gatehouse honours (proxy.trusted_fronts[i]): only from its source
/// networks, only in its format, and only with the shared secret when one is set.
/// </summary>
internal sealed record TrustedFront(
    string Name,
    ForwardedCertificateFormat Format,
    IReadOnlyList<IPNetwork> SourceNetworks,
    IReadOnlyDictionary<HeaderRole, string> Headers,
    SharedSecretHeader? SharedSecret)
{
    /// <summary>proxy.trusted_fronts[i].bind_tunnel_identity: when a /v1/tunnel upgrade from this front carries a
    /// forwarded certificate, the inner TLS client certificate must be the same user (ARCHITECTURE §4, issue 7).</summary>
    public bool BindTunnelIdentity { get; init; } = true;

    public bool Contains(IPAddress peer) => SourceNetworks.Any(n => n.Contains(peer));

    /// <summary>True when the request carries the front's secret (or the front has none). Compared in constant time.</summary>
    public bool CarriesSecret(ReceivedHeaders headers)
    {
        if (SharedSecret is null) return true;
        var values = headers.Get(SharedSecret.Name);
        return values.Count == 1 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(values[0]), SharedSecret.Value);
    }
}

/// <param name="CacheLifetime">How long a verdict on a certificate is reused (never past its NotAfter).</param>
internal sealed record ForwardedCertificateOptions(IReadOnlyList<TrustedFront> Fronts, DecodeLimits Limits)
{
    public static ForwardedCertificateOptions None { get; } = new([], new DecodeLimits());
    public TimeSpan CacheLifetime { get; init; } = TimeSpan.FromMinutes(2);
    public int CacheSize { get; init; } = 10_000;

    /// <summary>Every header that can carry a client certificate: each format's defaults, the names fronts renamed them
    /// to, and the fronts' secret headers. A request that did not come from a front has all of them removed. Compared
    /// with <see cref="FoldedHeaderNameComparer"/>: <c>X_Amzn_Mtls_Clientcert</c> is one of them too.</summary>
    public IReadOnlySet<string> CertificateHeaderNames { get; } = BuildNames(Fronts);

    private static HashSet<string> BuildNames(IReadOnlyList<TrustedFront> fronts)
    {
        var names = new HashSet<string>(ForwardedCertificateFormats.AllDefaultHeaderNames, FoldedHeaderNameComparer.Instance);
        foreach (var front in fronts)
        {
            names.UnionWith(front.Headers.Values);
            if (front.SharedSecret is { } secret) names.Add(secret.Name);
        }
        return names;
    }
}
