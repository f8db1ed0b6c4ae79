using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Storage;

namespace Gatehouse.Pki;

/// <param name="ClusterName">Goes into every CA and user certificate (O=…); fixed at first start.</param>
/// <param name="Algorithm">Key type of authorities created on first start (existing ones keep theirs).</param>
internal sealed record AuthorityOptions(string ClusterName, KeyAlgorithm Algorithm);

/// <summary>The cluster's authorities (user, host, SSH user and SSH host CAs, and the JWT key for HTTP apps), loaded from
/// the store or created there on first start; a data directory from before a kind existed gets that kind on its next
/// start (the store's AddAuthorityIfAbsent keeps that safe when several proxies start at once).</summary>
internal sealed class Authorities(CertificateAuthority user, CertificateAuthority host, SshAuthority sshUser, SshAuthority sshHost,
    JwtSigningKey jwt, CertificateAuthority dbClient, string cluster) : IDisposable
{
    public const string UserKind = "user", HostKind = "host", SshUserKind = "ssh-user", SshHostKind = "ssh-host", JwtKind = "jwt",
        DbClientKind = "db-client";

    public CertificateAuthority User { get; } = user;
    public CertificateAuthority Host { get; } = host;

    /// <summary>Signs OpenSSH user certificates; nodes trust it through sshd's <c>TrustedUserCAKeys</c>.</summary>
    public SshAuthority SshUser { get; } = sshUser;

    /// <summary>Signs OpenSSH host certificates (<c>admin certs issue-host --ssh</c>); clients trust nodes through its
    /// <c>@cert-authority</c> known_hosts line (<see cref="SshAuthority.KnownHostsLine"/>).</summary>
    public SshAuthority SshHost { get; } = sshHost;

    /// <summary>Signs the short-lived certificates the proxy logs in to databases with (CN = the database user); databases
    /// trust it (PostgreSQL's <c>ssl_ca_file</c> with pg_hba <c>cert</c>). It vouches for nothing else.</summary>
    public CertificateAuthority DbClient { get; } = dbClient;

    /// <summary>Signs the identity assertions HTTP apps receive; always ECDSA P-256 (ES256), whatever pki.algorithm says.</summary>
    public JwtSigningKey Jwt { get; } = jwt;
    public string ClusterName { get; } = cluster;

    public static async Task<Authorities> LoadOrCreateAsync(IAuthorityStore store, MasterKey masterKey, AuthorityOptions options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        // The user CA names the cluster: checked before anything else is loaded, so a wrong cluster_name adds no kind to
        // another cluster's store.
        var user = await LoadOrCreateX509Async(store, masterKey, UserKind, "Gatehouse user CA", options, time, cancellationToken);
        var cluster = user.Certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .FirstOrDefault(r => r.GetSingleElementType().Value == "2.5.4.10")?.GetSingleElementValue() ?? options.ClusterName;
        if (cluster != options.ClusterName)
        {
            user.Dispose();
            throw new SetupException($"cluster_name: the store's authorities belong to cluster '{cluster}', the configuration says '{options.ClusterName}'. A cluster's name is fixed at first start: set cluster_name back to '{cluster}'.");
        }
        var loaded = new List<IDisposable> { user };
        try
        {
            var host = Keep(loaded, await LoadOrCreateX509Async(store, masterKey, HostKind, "Gatehouse host CA", options, time, cancellationToken));
            var sshUser = Keep(loaded, await LoadOrCreateSshAsync(store, masterKey, SshUserKind, options, time, cancellationToken));
            var sshHost = Keep(loaded, await LoadOrCreateSshAsync(store, masterKey, SshHostKind, options, time, cancellationToken));
            var jwt = Keep(loaded, await LoadOrCreateJwtAsync(store, masterKey, time, cancellationToken));
            var dbClient = Keep(loaded, await LoadOrCreateX509Async(store, masterKey, DbClientKind, "Gatehouse db client CA", options, time, cancellationToken));
            return new Authorities(user, host, sshUser, sshHost, jwt, dbClient, cluster);
        }
        catch
        {
            foreach (var authority in loaded) authority.Dispose();
            throw;
        }
    }

    private static T Keep<T>(List<IDisposable> loaded, T authority) where T : IDisposable
    {
        loaded.Add(authority);
        return authority;
    }

    private static string Purpose(string kind) => $"gatehouse-ca:{kind}";

    private static async Task<CertificateAuthority> LoadOrCreateX509Async(IAuthorityStore store, MasterKey masterKey, string kind,
        string displayName, AuthorityOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var stored = await store.GetAuthorityAsync(kind, cancellationToken);
        if (stored is null)
        {
            using var created = CertificateAuthority.Create(kind, displayName, options.ClusterName, options.Algorithm.Generate(), time.GetUtcNow());
            stored = await store.AddAuthorityIfAbsentAsync(new StoredAuthority(kind, created.KeyFamily, created.Certificate.ExportCertificatePem(),
                masterKey.Seal(created.ExportPrivateKey(), Purpose(kind)), time.GetUtcNow()), cancellationToken);
        }
        var key = Unseal(stored, masterKey);
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(stored.PublicPart);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new SetupException($"the {kind} CA certificate in the store is corrupt ({e.Message.TrimEnd('.')}); restore the store from a backup.", e);
        }
        if (!SamePublicKey(certificate.PublicKey, key))
        {
            key.Dispose();
            throw new SetupException($"the {kind} CA certificate in the store does not match its private key; restore the store from a backup.");
        }
        return new CertificateAuthority(kind, certificate, key);
    }

    /// <summary>The SSH user or host CA (<paramref name="kind"/>): an OpenSSH key pair, no certificate.</summary>
    private static async Task<SshAuthority> LoadOrCreateSshAsync(IAuthorityStore store, MasterKey masterKey, string kind, AuthorityOptions options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var stored = await store.GetAuthorityAsync(kind, cancellationToken);
        if (stored is null)
        {
            using var created = new SshAuthority(kind, options.Algorithm.Generate(), options.ClusterName);
            stored = await store.AddAuthorityIfAbsentAsync(new StoredAuthority(kind, created.KeyFamily, created.PublicKeyLine,
                masterKey.Seal(created.ExportPrivateKey(), Purpose(kind)), time.GetUtcNow()), cancellationToken);
        }
        var authority = new SshAuthority(kind, Unseal(stored, masterKey), options.ClusterName);
        if (!SameKeyBlob(authority.PublicKeyLine, stored.PublicPart))
        {
            authority.Dispose();
            throw new SetupException($"the {kind} CA public key in the store does not match its private key; restore the store from a backup.");
        }
        return authority;
    }

    private static async Task<JwtSigningKey> LoadOrCreateJwtAsync(IAuthorityStore store, MasterKey masterKey, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var stored = await store.GetAuthorityAsync(JwtKind, cancellationToken);
        if (stored is null)
        {
            using var created = JwtSigningKey.Generate();
            stored = await store.AddAuthorityIfAbsentAsync(new StoredAuthority(JwtKind, "ecdsa", created.PublicKeyPem,
                masterKey.Seal(created.ExportPrivateKey(), Purpose(JwtKind)), time.GetUtcNow()), cancellationToken);
        }
        var key = Unseal(stored, masterKey);
        JwtSigningKey jwt;
        try
        {
            jwt = new JwtSigningKey(key as ECDsa ?? throw new CryptographicException("not an ECDSA key"));
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new SetupException($"the {JwtKind} key in the store is not an ECDSA P-256 key ({e.Message.TrimEnd('.')}); restore the store from a backup.", e);
        }
        if (!jwt.HasPublicKey(stored.PublicPart))
        {
            jwt.Dispose();
            throw new SetupException($"the {JwtKind} public key in the store does not match its private key; restore the store from a backup.");
        }
        return jwt;
    }

    private static AsymmetricAlgorithm Unseal(StoredAuthority stored, MasterKey masterKey)
    {
        if (!masterKey.TryUnseal(stored.SealedPrivateKey, Purpose(stored.Kind), out var pkcs8, out var error))
            throw new SetupException($"cannot decrypt the {stored.Kind} CA key: {error}. Use the master key this data directory was created with (master.key or {MasterKey.EnvironmentVariable}).");
        try
        {
            return KeyAlgorithms.ImportPkcs8(stored.KeyFamily, pkcs8);
        }
        catch (CryptographicException e)
        {
            throw new SetupException($"the {stored.Kind} CA key in the store is corrupt ({e.Message.TrimEnd('.')}); restore the store from a backup.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static bool SamePublicKey(PublicKey certificateKey, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => certificateKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(ec.ExportSubjectPublicKeyInfo()),
        RSA rsa => certificateKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(rsa.ExportSubjectPublicKeyInfo()),
        _ => false,
    };

    /// <summary>Compares "type base64" of two OpenSSH public key lines, ignoring the comment.</summary>
    private static bool SameKeyBlob(string a, string b) =>
        string.Join(' ', a.Split(' ').Take(2)) == string.Join(' ', b.Trim().Split(' ').Take(2));

    public void Dispose()
    {
        User.Dispose();
        Host.Dispose();
        SshUser.Dispose();
        SshHost.Dispose();
        Jwt.Dispose();
        DbClient.Dispose();
    }
}
