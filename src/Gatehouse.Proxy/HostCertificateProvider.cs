using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki;

namespace Gatehouse.Proxy;

/// <summary>
/// The proxy's TLS certificate, issued by the host CA for a key made in this process (it never touches disk), and
/// renewed in the background once two thirds of its life have passed. Clients trust it through the host CA.
/// </summary>
/// <param name="appHosts">HTTP apps' own host names (public_host), named in the certificate as they are.</param>
internal sealed class HostCertificateProvider(CertificateIssuer issuer, IReadOnlyList<string> publicAddresses, IReadOnlyList<string> appHosts,
    TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _renewing = new(1, 1);
    private X509Certificate2? _current;

    public X509Certificate2 Current => _current ?? throw new InvalidOperationException("call InitializeAsync first");

    public async Task InitializeAsync(CancellationToken cancellationToken) => await RenewAsync(cancellationToken);

    /// <summary>Called per handshake: returns the current certificate and starts a renewal when it is due.</summary>
    public X509Certificate2 Select()
    {
        var current = Current;
        var lifetime = current.NotAfter - current.NotBefore;
        if (time.GetUtcNow() > current.NotBefore.ToUniversalTime() + lifetime * 2 / 3 && _renewing.CurrentCount > 0)
            _ = Task.Run(() => RenewAsync(CancellationToken.None));
        return current;
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        if (!await _renewing.WaitAsync(0, cancellationToken)) return;
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            // The internal name lets the inner TLS of a tunnel verify the proxy whatever name the balancer shows.
            using var issued = await issuer.IssueHostAsync([.. publicAddresses, Gatehouse.Routing.ProxyProtocol.InternalHostName], new PublicKey(key),
                CertificateIssuer.DefaultHostTtl, cancellationToken, appHosts);
            // Kestrel on Linux needs the private key attached; PKCS#12 round trip gives a key OpenSSL can use.
            using var withKey = issued.CopyWithPrivateKey(key);
            var usable = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
            Interlocked.Exchange(ref _current, usable);
        }
        finally
        {
            _renewing.Release();
        }
    }

    public void Dispose()
    {
        _current?.Dispose();
        _renewing.Dispose();
    }
}
