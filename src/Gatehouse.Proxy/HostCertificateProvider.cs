using System.Net.Security;
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
    private Issued? _current;

    /// <summary>A certificate and its TLS context, made together once per renewal: a context built per handshake (what
    /// SslStream does when given only the certificate) builds the certificate's chain against the machine's roots each
    /// time, which was the largest single cost of a new connection (docs/benchmarks.md, "P2 profile").</summary>
    private sealed record Issued(X509Certificate2 Certificate, SslStreamCertificateContext Context, DateTimeOffset RenewAt);

    public X509Certificate2 Current => (_current ?? throw new InvalidOperationException("call InitializeAsync first")).Certificate;

    public async Task InitializeAsync(CancellationToken cancellationToken) => await RenewAsync(cancellationToken);

    /// <summary>Called per handshake: the current certificate's TLS context (made once per certificate), and starts a
    /// renewal when it is due.</summary>
    public SslStreamCertificateContext SelectContext() => SelectIssued().Context;

    /// <summary>
    /// The chain policy for the client certificate a handshake receives. TLS accepts any client certificate (each is
    /// judged afterwards by the one validator, against the cluster's trust, with a verdict cache), but SslStream still
    /// builds a chain for it before calling the validation callback; with the default policy that build searches the
    /// machine's root store on every handshake (OpenSSL sorting ~140 names), the largest cost of a new connection after
    /// the server certificate's own chain (docs/benchmarks.md, "P2 profile"). An empty custom trust and no downloads
    /// keep that unused build small. Nothing is decided by it.
    /// </summary>
    public static X509ChainPolicy UnusedClientChainPolicy() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        DisableCertificateDownloads = true,
        RevocationMode = X509RevocationMode.NoCheck,
    };

    private Issued SelectIssued()
    {
        var current = _current ?? throw new InvalidOperationException("call InitializeAsync first");
        if (time.GetUtcNow() > current.RenewAt && _renewing.CurrentCount > 0)
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
            // offline: the chain is the host CA's, known here; nothing is to be fetched for it.
            var context = SslStreamCertificateContext.Create(usable, additionalCertificates: null, offline: true);
            var notBefore = new DateTimeOffset(usable.NotBefore.ToUniversalTime(), TimeSpan.Zero);
            var lifetime = usable.NotAfter.ToUniversalTime() - usable.NotBefore.ToUniversalTime();
            Interlocked.Exchange(ref _current, new Issued(usable, context, notBefore + lifetime * 2 / 3));
        }
        finally
        {
            _renewing.Release();
        }
    }

    public void Dispose()
    {
        _current?.Certificate.Dispose();
        _renewing.Dispose();
    }
}
