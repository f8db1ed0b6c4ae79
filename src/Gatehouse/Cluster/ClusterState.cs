using Gatehouse.Access.Users;
using Gatehouse.Audit;
using Gatehouse.Pki;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Storage;

namespace Gatehouse.Cluster;

/// <summary>
/// A cluster's state opened from its data directory: the store, the master key, the authorities and the
/// services built on them. Used by the proxy and by the admin verbs alike.
/// </summary>
internal sealed class ClusterState : IAsyncDisposable
{
    private TrustStore _trust;

    private readonly MasterKey _masterKey;
    private readonly SemaphoreSlim _reload = new(1, 1);
    private readonly HttpClient _revocationHttp;

    private ClusterState(ClusterOptions options, IStore store, MasterKey masterKey, Authorities authorities, TimeProvider time, TrustStore trust)
    {
        _masterKey = masterKey;
        Options = options;
        Store = store;
        Authorities = authorities;
        Time = time;
        Issuer = new CertificateIssuer(authorities, store, time, options.MaxUserCertTtl, options.UserCrlUrl);
        Revocation = new RevocationService(authorities, store, time);
        _trust = trust;
        _revocationHttp = RevocationHttp.CreateClient();
        Ocsp = new Pki.Ocsp.OcspService(_revocationHttp, time, Pki.Ocsp.OcspOptions.Default);
        Validator = new CertificateValidator(() => _trust, time, options.Validation, Ocsp, DiscoverCrlUrlsAsync);
        Audit = new AuditLog(store, time, options.AuditFile);
        Users = new UserService(store, masterKey, time, authorities.ClusterName);
    }

    public ClusterOptions Options { get; }
    public IStore Store { get; }
    public Authorities Authorities { get; }
    public TimeProvider Time { get; }
    public CertificateIssuer Issuer { get; }
    public RevocationService Revocation { get; }
    public CertificateValidator Validator { get; }

    /// <summary>OCSP answers about company certificates, for the CAs whose policy asks OCSP.</summary>
    public Pki.Ocsp.OcspService Ocsp { get; }
    public TrustStore Trust => _trust;
    public AuditLog Audit { get; }
    public UserService Users { get; }

    /// <summary>True when the store already holds a cluster (its user CA), so a start is not the first one. Creates nothing.</summary>
    public static Task<bool> ExistsAsync(StoreOptions storage, string dataDirectory, CancellationToken cancellationToken, Action<string>? onRetry = null) =>
        Stores.HoldsAuthorityAsync(storage, dataDirectory, Authorities.UserKind, cancellationToken, onRetry);

    /// <summary>Password (+ TOTP) login over this cluster's store, users, issuer and audit trail.</summary>
    public Access.Login.LoginService CreateLoginService(TimeSpan defaultTtl) =>
        new(Store, Users, Issuer, Audit, Authorities.ClusterName, Time, defaultTtl);

    /// <summary>The master key, for what the proxy seals and later opens itself (web session cookies, purpose
    /// "web-session"); each use binds its own purpose so one sealed value cannot pass for another.</summary>
    public MasterKey MasterKey => _masterKey;

    /// <summary>
    /// Opens the data directory. With <paramref name="create"/> a missing directory, master key and authorities are
    /// made (first start); without it, a directory that was never started is an error that says so.
    /// </summary>
    public static async Task<ClusterState> OpenAsync(ClusterOptions options, TimeProvider time, bool create, CancellationToken cancellationToken,
        Action<string>? onRetry = null)
    {
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        var exists = await ExistsAsync(options.Storage, dataDirectory, cancellationToken, onRetry);
        if (!create && !exists)
            throw new SetupException($"{StoreName(options.Storage, dataDirectory)} holds no Gatehouse cluster yet; run `gatehouse start` once (with the same --config) to create it.");
        if (create && !Directory.Exists(dataDirectory))
            Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // the store holds sealed keys: owner only

        var masterKey = MasterKey.Load(dataDirectory, options.MasterKey, createIfMissing: create && !exists);
        IStore store;
        try
        {
            store = await Stores.OpenAsync(options.Storage, dataDirectory, cancellationToken, onRetry);
        }
        catch
        {
            masterKey.Dispose();
            throw;
        }
        try
        {
            var authorities = await Authorities.LoadOrCreateAsync(store, masterKey, new AuthorityOptions(options.ClusterName, options.KeyAlgorithm), time, cancellationToken);
            var trust = await LoadTrustAsync(authorities, store, WithCrlCache(options.Trust, dataDirectory), time, cancellationToken);
            return new ClusterState(options, store, masterKey, authorities, time, trust);
        }
        catch
        {
            masterKey.Dispose();
            await store.DisposeAsync();
            throw;
        }
    }

    private static string StoreName(StoreOptions options, string dataDirectory) =>
        options.Kind == StoreKind.Sqlite ? dataDirectory : "the PostgreSQL database";

    /// <summary>Re-reads the cluster's revocations and the operator's trust files; when anything changed, the new view
    /// replaces the old at once (and gets a new version), else the current view stays.</summary>
    public async Task<TrustStore> ReloadTrustAsync(CancellationToken cancellationToken)
    {
        var revoked = (await Store.ListRevocationsAsync(Authorities.UserKind, cancellationToken)).Select(r => r.Serial).ToList();
        // One reload at a time: each builds on the view before it (a failing CRL source keeps what that view had).
        await _reload.WaitAsync(cancellationToken);
        try
        {
            var current = _trust;
            if (TrustStoreLoader.Fingerprint(Authorities.User.Certificate, revoked, TrustOptions) == current.Fingerprint) return current;
            var trust = TrustStoreLoader.Load(Authorities.User.Certificate, revoked, TrustOptions, current, Time.GetUtcNow());
            Interlocked.Exchange(ref _trust, trust);
            TrustChanged?.Invoke(current, trust);
            return trust;
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>Raised after a reload replaced the trust view (before, after): the proxy logs CRL sources that start or
    /// stop failing.</summary>
    public event Action<TrustStore, TrustStore>? TrustChanged;

    private static async Task<TrustStore> LoadTrustAsync(Authorities authorities, IStore store, TrustOptions options, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var revoked = await store.ListRevocationsAsync(Authorities.UserKind, cancellationToken);
        return TrustStoreLoader.Load(authorities.User.Certificate, revoked.Select(r => r.Serial), options, null, time.GetUtcNow());
    }

    /// <summary>CRLs fetched from URLs are kept under the data directory unless the options name another place.</summary>
    private static TrustOptions WithCrlCache(TrustOptions trust, string dataDirectory) =>
        trust.CrlCacheDirectory is null ? trust with { CrlCacheDirectory = Path.Combine(dataDirectory, "crl-cache") } : trust;

    /// <summary>The trust options in force: the configured ones with the CRL cache directory filled in, and the CRL
    /// distribution points certificates named added to the policies that read them.</summary>
    public TrustOptions TrustOptions
    {
        get
        {
            var options = WithCrlCache(Options.Trust, Path.GetFullPath(Options.DataDirectory));
            if (_discovered.IsEmpty) return options;
            return options with
            {
                Revocation = [.. options.Revocation.Select(p => _discovered.TryGetValue(p.Key, out var found)
                    ? p with { CrlUrls = [.. p.CrlUrls.Concat(found).Distinct()] } : p)],
            };
        }
    }

    /// <summary>Most distribution-point URLs remembered per policy (a CA names one or two; this bounds a misbehaving one).</summary>
    public const int MaxDiscoveredUrls = 16;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Immutable.ImmutableList<Uri>> _discovered = new();
    private readonly SemaphoreSlim _discovery = new(1, 1);

    /// <summary>
    /// A certificate of a trusted chain named CRL locations for a policy with crl_distribution_points: new ones are
    /// remembered (the background refresh keeps them current from then on), fetched now, and the trust view reloaded,
    /// so the certificate is judged on its CA's CRL rather than refused as unknown.
    /// </summary>
    private async ValueTask DiscoverCrlUrlsAsync(RevocationPolicy policy, IReadOnlyList<Uri> urls, CancellationToken cancellationToken)
    {
        var known = _discovered.GetValueOrDefault(policy.Key, []);
        if (urls.All(u => known.Contains(u) || policy.CrlUrls.Contains(u))) return;
        await _discovery.WaitAsync(cancellationToken);
        try
        {
            known = _discovered.GetValueOrDefault(policy.Key, []);
            var fresh = urls.Where(u => !known.Contains(u) && !policy.CrlUrls.Contains(u)).Take(MaxDiscoveredUrls - known.Count).ToList();
            if (fresh.Count == 0) return;
            _discovered[policy.Key] = known.AddRange(fresh);
            var issuers = _trust.RevocationByIssuer.Values.Where(v => v.Policy.Key == policy.Key).Select(v => v.Certificate).ToList();
            var fetcher = new CrlFetcher(_revocationHttp, CrlFetchOptions.Default);
            foreach (var url in fresh)
                await fetcher.FetchAsync(url, TrustOptions.CrlCacheDirectory!, issuers, cancellationToken);
        }
        finally
        {
            _discovery.Release();
        }
        await ReloadTrustAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Authorities.Dispose();
        Audit.Dispose();
        _reload.Dispose();
        _discovery.Dispose();
        _revocationHttp.Dispose();
        _masterKey.Dispose();
        await Store.DisposeAsync();
    }
}
