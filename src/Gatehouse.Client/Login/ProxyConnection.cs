using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Trust;
using Gatehouse.Client.Dialing;

namespace Gatehouse.Client.Login;

/// <summary>How the client decides whether it is talking to the real proxy.</summary>
/// <param name="HostCa">The cluster's host CA (from a profile or --ca): trusted besides this machine's store, with the
/// name checked. Behind a balancer the HTTPS ends at the balancer's own certificate, so (as for a tunnel's outer TLS,
/// <c>DialTrust.CheckOuter</c>) a certificate this machine trusts for the name is accepted too.</param>
/// <param name="Insecure">Accept any certificate (first contact in a lab; never for production).</param>
internal sealed record ProxyTrust(X509Certificate2? HostCa, bool Insecure)
{
    public static ProxyTrust System { get; } = new(null, false);
}

/// <summary>An HTTP client for the proxy's web side, with the chosen trust, offering <paramref name="outer"/>'s certificate when a
/// balancer in front asks for one (issue 7).</summary>
internal static class ProxyConnection
{
    public static HttpClient Create(string proxy, ProxyTrust trust, TimeSpan timeout, OuterCertificate outer)
    {
        var handler = new SocketsHttpHandler
        {
            // Connect and TLS handshake; a busy proxy host can take seconds to finish a handshake, so not too tight.
            ConnectTimeout = TimeSpan.FromSeconds(30),
            // Copied per connection by SocketsHttpHandler, callbacks included, so every connection reports to the same outer.
            SslOptions = outer.ApplyTo(new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Check(trust, certificate, errors) }),
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://{proxy}/"), Timeout = timeout };
    }

    private static bool Check(ProxyTrust trust, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (trust.Insecure) return true;
        if (errors == SslPolicyErrors.None) return true; // this machine trusts it for the name: a balancer's public certificate
        if (trust.HostCa is null) return false;
        if (presented is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        return Chains.ChainsTo([trust.HostCa], presented, Chains.ServerAuth);
    }

    /// <summary>Turns a TLS failure into a sentence that says what to do.</summary>
    public static string Explain(HttpRequestException e, string proxy, ProxyTrust trust, OuterCertificate outer) =>
        // A TLS alert, a connection closed after the handshake, or a refusal status (EnsureSuccessStatusCode) once a
        // front asked for a certificate we did not have: say that, not "untrusted" or "cannot reach".
        e.HttpRequestError is not (HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError)
        && (e.StatusCode is not { } status || OuterCertificate.IsCertificateRefusalStatus((int)status))
        && outer.MissingCertificateExplanation(proxy) is { } missing ? missing
        : e.InnerException is System.Security.Authentication.AuthenticationException
            ? trust.HostCa is null
                ? $"the certificate of {proxy} is not trusted by this machine. Get the cluster's host CA from an administrator " +
                  "(`gatehouse admin ca export --kind host`) and pass --ca FILE, or use --insecure for a first look in a lab."
                : $"the certificate of {proxy} is neither from the cluster's host CA nor trusted by this machine, or not for that name; check --proxy, " +
                  "trust a balancer's CA in the system store, or log out and in again if the cluster was rebuilt."
            : $"cannot reach {proxy}: {e.Message}";
}
