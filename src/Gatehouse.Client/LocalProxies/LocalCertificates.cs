using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Trust;

namespace Gatehouse.Client.LocalProxies;

/// <summary>
/// A certificate authority that lives as long as one local proxy, in memory only: it issues the local proxy's server
/// certificate (127.0.0.1, localhost) and the one client certificate the local proxy accepts — so that another user on
/// the machine cannot borrow the local port, and nothing needs the system's trust store.
/// </summary>
internal sealed class LocalCertificates(X509Certificate2 authority, X509Certificate2 server, X509Certificate2 client) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(1);

    public X509Certificate2 Authority { get; } = authority;
    public X509Certificate2 Server { get; } = server;
    public X509Certificate2 Client { get; } = client;

    public static LocalCertificates Create(string purpose)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Gatehouse local CA ({purpose})", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var authority = caRequest.CreateSelfSigned(now.AddMinutes(-5), now + Lifetime);

        var sans = new SubjectAlternativeNameBuilder();
        sans.AddIpAddress(IPAddress.Loopback);
        sans.AddDnsName("localhost");
        var server = Issue(authority, caKey, "CN=localhost", now, "1.3.6.1.5.5.7.3.1", sans.Build());
        var client = Issue(authority, caKey, $"CN=gatehouse local client ({purpose})", now, "1.3.6.1.5.5.7.3.2", null);
        return new LocalCertificates(X509CertificateLoader.LoadCertificate(authority.RawData), server, client);
    }

    /// <summary>True when <paramref name="presented"/> was issued by this authority (the local proxy's client check).</summary>
    public bool Issued(X509Certificate2 presented) => Chains.ChainsTo([Authority], presented, Chains.ClientAuth);

    private static X509Certificate2 Issue(X509Certificate2 authority, ECDsa caKey, string subject, DateTimeOffset now, string usage,
        X509Extension? sans)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (sans is not null) request.CertificateExtensions.Add(sans);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var signed = request.Create(authority.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-5), now + Lifetime, serial);
        using var withKey = signed.CopyWithPrivateKey(key);
        // Through PKCS#12 so that Kestrel (and SslStream) can use the key on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        Authority.Dispose();
        Server.Dispose();
        Client.Dispose();
    }
}
