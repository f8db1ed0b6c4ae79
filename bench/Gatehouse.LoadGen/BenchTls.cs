using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.LoadGen;

/// <summary>
/// The client TLS settings every measurement shares, so Gatehouse and nginx see the same client: no session
/// resumption (each handshake is a full one; nginx has its session cache and tickets off as well) and no check of the
/// server's certificate (both servers' certificates come from this run; checking them would only add the same client
/// cost to both sides).
/// </summary>
internal static class BenchTls
{
    public static SslClientAuthenticationOptions ClientOptions(string targetHost, string? alpn, SslStreamCertificateContext? clientCertificate) => new()
    {
        TargetHost = targetHost,
        ApplicationProtocols = alpn is null ? null : [new SslApplicationProtocol(alpn)],
        ClientCertificateContext = clientCertificate,
        AllowTlsResume = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, _, _, _) => true,
    };

    /// <summary>The certificate offered on every handshake, loaded the way the Gatehouse client loads a profile's.</summary>
    public static SslStreamCertificateContext LoadClientCertificate(string certFile, string keyFile) =>
        SslStreamCertificateContext.Create(X509Certificate2.CreateFromPemFile(certFile, keyFile), null);
}
