using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki;

namespace Gatehouse.Proxy.Services.Databases;

/// <summary>
/// The certificates the proxy logs in to databases with (auth kind <c>certificate</c>): one per database user, from the
/// db client CA, with a key made here that never leaves this process. Each lives an hour and is reused until a quarter of
/// an hour before its end, so a busy database does not cost a signature per session — and a ledger row per session.
/// </summary>
internal sealed class DbClientCertificates(CertificateIssuer issuer, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1), RenewBefore = TimeSpan.FromMinutes(15);
    private const int MaxCached = 1024;

    private readonly ConcurrentDictionary<string, X509Certificate2> _issued = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _issuing = new(1, 1);

    /// <summary>A certificate with its private key for <paramref name="dbUser"/>, valid for at least a quarter of an hour.</summary>
    public async ValueTask<X509Certificate2> ForAsync(string dbUser, CancellationToken cancellationToken)
    {
        if (_issued.TryGetValue(dbUser, out var cached) && Fresh(cached)) return cached;
        await _issuing.WaitAsync(cancellationToken);
        try
        {
            if (_issued.TryGetValue(dbUser, out cached) && Fresh(cached)) return cached;
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var issued = await issuer.IssueDbClientAsync(dbUser, new PublicKey(key), Lifetime, cancellationToken);
            using var withKey = issued.CopyWithPrivateKey(key);
            // OpenSSL (under SslStream on Linux) wants a key it can use directly: a PKCS#12 round trip gives one.
            var usable = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
            if (_issued.Count >= MaxCached) Evict();
            // A replaced certificate may be in use by a handshake in flight; it is left to the collector, not disposed.
            _issued[dbUser] = usable;
            return usable;
        }
        finally
        {
            _issuing.Release();
        }
    }

    private bool Fresh(X509Certificate2 certificate) => certificate.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime > RenewBefore;

    private void Evict()
    {
        foreach (var (user, certificate) in _issued)
            if (!Fresh(certificate))
                _issued.TryRemove(user, out _);
        if (_issued.Count >= MaxCached) _issued.Clear();
    }

    public void Dispose()
    {
        foreach (var certificate in _issued.Values) certificate.Dispose();
        _issuing.Dispose();
    }
}
