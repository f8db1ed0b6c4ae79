using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Ssh;
using Gatehouse.Storage;

namespace Gatehouse.Pki;

/// <summary>Issues the cluster's end-entity certificates and records each one in the ledger.</summary>
/// <param name="maxUserTtl">The cluster's ceiling on a user certificate's lifetime (pki.max_user_cert_ttl): every user
/// certificate, X.509 or OpenSSH, is held to it; only an operator's explicit choice may exceed it (issue 11).</param>
/// <param name="userCrlUrl">Where the user CA's CRL is published (<c>/v1/crl/user.crl</c> of the proxy): named in every
/// user certificate's CRL Distribution Points, so other systems that see these certificates can check them (issue 16).</param>
internal sealed class CertificateIssuer(Authorities authorities, ICertificateLedger ledger, TimeProvider time, TimeSpan maxUserTtl, Uri? userCrlUrl = null)
{
    public static readonly TimeSpan DefaultUserTtl = TimeSpan.FromHours(12);

    /// <summary>12 h, as Teleport's default max_session_ttl: a stolen certificate is good for a working day at most.</summary>
    public static readonly TimeSpan DefaultMaxUserTtl = TimeSpan.FromHours(12);

    public static readonly TimeSpan DefaultHostTtl = TimeSpan.FromDays(30);

    /// <summary>A year: a node's host certificate is installed by hand (`admin certs issue-host`), so it is renewed rarely.</summary>
    public static readonly TimeSpan DefaultSshHostTtl = TimeSpan.FromDays(365);
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2", ServerAuth = "1.3.6.1.5.5.7.3.1";

    public string ClusterName => authorities.ClusterName;

    /// <summary>The ceiling on user certificates' lifetime; callers cap what they were asked for to it before issuing.</summary>
    public TimeSpan MaxUserTtl => maxUserTtl;

    /// <summary>
    /// A user certificate (ARCHITECTURE §5): CN = user, O = cluster, 128-bit random serial, valid from a minute ago
    /// (clock skew) for <paramref name="ttl"/>, EKU clientAuth, and the identity extension. Only the public key is needed:
    /// the private key stays where it was made.
    /// </summary>
    /// <param name="allowAboveMax">Only for an operator who asked for it explicitly (and is audited): a lifetime above
    /// <see cref="MaxUserTtl"/>. Without it such a lifetime is a caller's mistake and throws.</param>
    public async ValueTask<X509Certificate2> IssueUserAsync(Identity.Identity identity, PublicKey subjectKey, TimeSpan ttl,
        CancellationToken cancellationToken, bool allowAboveMax = false)
    {
        ValidateName(identity.User, "user name");
        ValidateUserTtl(ttl, allowAboveMax);
        var now = time.GetUtcNow();
        identity = identity with { Cluster = authorities.ClusterName, IssuedAt = now };
        var request = ClientRequest(identity.User, subjectKey);
        request.CertificateExtensions.Add(Identity.IdentityExtension.Encode(identity));
        if (userCrlUrl is not null)
            request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([userCrlUrl.AbsoluteUri]));
        return await SignAndRecordAsync(authorities.User, request, now, ttl, "user-tls", identity.User, cancellationToken);
    }

    /// <summary>
    /// A host certificate for the proxy: for each DNS name N the SANs N, *.N, kube-gatehouse.N and *.db.N; each IP address as an
    /// IP SAN; EKU serverAuth.
    /// </summary>
    /// <param name="exactNames">More DNS names the proxy answers for as they are (an HTTP app's public_host): no wildcard
    /// and no kube-gatehouse. name is added for them.</param>
    public async ValueTask<X509Certificate2> IssueHostAsync(IReadOnlyList<string> publicAddresses, PublicKey subjectKey, TimeSpan ttl,
        CancellationToken cancellationToken, IReadOnlyList<string>? exactNames = null)
    {
        if (publicAddresses.Count == 0) throw new ArgumentException("a host certificate needs at least one name or address", nameof(publicAddresses));
        ValidateTtl(ttl);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var address in publicAddresses)
        {
            if (IPAddress.TryParse(address, out var ip))
            {
                san.AddIpAddress(ip);
                continue;
            }
            if (Uri.CheckHostName(address) != UriHostNameType.Dns)
                throw new ArgumentException($"'{address}' is neither a DNS name nor an IP address", nameof(publicAddresses));
            san.AddDnsName(address);
            san.AddDnsName("*." + address);
            san.AddDnsName("kube-gatehouse." + address);
            san.AddDnsName("*.db." + address); // plain psql names the database in the host: NAME.db.<public name>
        }
        foreach (var name in exactNames ?? [])
        {
            if (Uri.CheckHostName(name) != UriHostNameType.Dns)
                throw new ArgumentException($"'{name}' is not a DNS name", nameof(exactNames));
            san.AddDnsName(name);
        }
        var now = time.GetUtcNow();
        var subject = new X500DistinguishedNameBuilder();
        // The builder encodes the last added RDN first: this yields the usual O=…, CN=… DER order (RFC 4514 prints CN first).
        // X500DistinguishedNameBuilder encodes the last RDN added first; this gives the usual DER order O, CN.
        subject.AddCommonName(publicAddresses[0]);
        subject.AddOrganizationName(authorities.ClusterName);
        var request = CertificateAuthority.NewRequest(subject.Build(), subjectKey);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | (subjectKey.Oid.Value == "1.2.840.113549.1.1.1" ? X509KeyUsageFlags.KeyEncipherment : 0), true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuth)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(subjectKey, false));
        request.CertificateExtensions.Add(san.Build());
        return await SignAndRecordAsync(authorities.Host, request, now, ttl, "host-tls", publicAddresses[0], cancellationToken);
    }

    /// <summary>
    /// A database client certificate from the db client CA: CN = <paramref name="dbUser"/> (what PostgreSQL's pg_hba
    /// <c>cert</c> method and MySQL's <c>REQUIRE SUBJECT</c> match), O = cluster, EKU clientAuth, valid for
    /// <paramref name="ttl"/>. The proxy makes the key, keeps it in memory and presents it to the database for a session.
    /// </summary>
    public async ValueTask<X509Certificate2> IssueDbClientAsync(string dbUser, PublicKey subjectKey, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ValidateName(dbUser, "database user");
        ValidateTtl(ttl);
        var now = time.GetUtcNow();
        var request = ClientRequest(dbUser, subjectKey);
        return await SignAndRecordAsync(authorities.DbClient, request, now, ttl, "db-client", dbUser, cancellationToken);
    }

    /// <summary>An OpenSSH user certificate: key id = user, principals = the identity's logins, the standard permit-* extensions.
    /// Held to <see cref="MaxUserTtl"/> as <see cref="IssueUserAsync"/> is.</summary>
    public async ValueTask<OpenSshCertificate> IssueSshUserAsync(Identity.Identity identity, AsymmetricAlgorithm subjectPublicKey, TimeSpan ttl,
        CancellationToken cancellationToken, bool allowAboveMax = false)
    {
        ValidateName(identity.User, "user name");
        ValidateUserTtl(ttl, allowAboveMax);
        var now = time.GetUtcNow();
        // OpenSSH reads an empty principal list as "any user" (PROTOCOL.certkeys), so an identity without logins gets a
        // principal no account can have instead.
        IReadOnlyList<string> principals = identity.Logins.Count > 0 ? identity.Logins : [$"-gatehouse-nologin-{Guid.NewGuid():N}"];
        var request = new OpenSshCertificateRequest(subjectPublicKey, SerialNumbers.LowBits64(SerialNumbers.NewRandom()), OpenSshCertificateType.User,
            identity.User, principals, now - ClockSkew, now + ttl);
        return await SignAndRecordAsync(authorities.SshUser, request, "user-ssh", now, cancellationToken);
    }

    /// <summary>
    /// An OpenSSH host certificate for a node's sshd (<c>HostCertificate</c>): key id = <paramref name="name"/>, principals =
    /// the names and addresses clients reach the node by, no critical options or extensions (none are defined for hosts).
    /// ssh accepts it when the name it connects to is a principal and its known_hosts trusts the SSH host CA.
    /// </summary>
    /// <param name="principals">DNS names (compared as ssh does, in lower case) and IP addresses; at least one.</param>
    public async ValueTask<OpenSshCertificate> IssueSshHostAsync(string name, IReadOnlyList<string> principals, AsymmetricAlgorithm subjectPublicKey,
        TimeSpan ttl, CancellationToken cancellationToken)
    {
        ValidateName(name, "node name");
        ValidateTtl(ttl);
        var hostPrincipals = SshHostPrincipals(principals);
        var now = time.GetUtcNow();
        var request = new OpenSshCertificateRequest(subjectPublicKey, SerialNumbers.LowBits64(SerialNumbers.NewRandom()), OpenSshCertificateType.Host,
            name, hostPrincipals, now - ClockSkew, now + ttl);
        return await SignAndRecordAsync(authorities.SshHost, request, "host-ssh", now, cancellationToken);
    }

    /// <summary>Why these cannot be a host certificate's principals (naming each bad one), or null when they can: at least
    /// one, each a DNS name or an IP address.</summary>
    public static string? SshHostPrincipalsProblem(IReadOnlyList<string> principals)
    {
        if (principals.Count == 0)
            return "a host certificate needs at least one principal (a name or address clients use for the node); OpenSSH would read an empty list as any host";
        var invalid = principals.Where(p => !IsHostNameOrAddress(p)).Select(p => $"'{p}'").ToList();
        return invalid.Count == 0 ? null
            : $"{string.Join(", ", invalid)} {(invalid.Count == 1 ? "is" : "are")} neither a DNS name nor an IP address";
    }

    /// <summary>The principals as written into the certificate: DNS names lower-cased, since ssh compares the host name it
    /// was given in lower case ("Node1" would never match), and each once.</summary>
    private static string[] SshHostPrincipals(IReadOnlyList<string> principals)
    {
        if (SshHostPrincipalsProblem(principals) is { } problem) throw new ArgumentException(problem, nameof(principals));
        return [.. principals.Select(p => IPAddress.TryParse(p, out _) ? p : p.ToLowerInvariant()).Distinct(StringComparer.Ordinal)];
    }

    private static bool IsHostNameOrAddress(string text) =>
        IPAddress.TryParse(text, out _) || Uri.CheckHostName(text) == UriHostNameType.Dns;

    /// <summary>Signs an OpenSSH certificate with the given SSH CA and records it in the ledger by its 64-bit serial.</summary>
    private async ValueTask<OpenSshCertificate> SignAndRecordAsync(SshAuthority authority, OpenSshCertificateRequest request, string usage,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var certificate = authority.Sign(request);
        await ledger.RecordIssuedAsync(new IssuedCertificate(SerialNumbers.FromUInt64(request.Serial), authority.Kind, usage, request.KeyId,
            request.ValidAfter, request.ValidBefore, now), cancellationToken);
        return certificate;
    }

    private async ValueTask<X509Certificate2> SignAndRecordAsync(CertificateAuthority authority, CertificateRequest request, DateTimeOffset now,
        TimeSpan ttl, string usage, string subject, CancellationToken cancellationToken)
    {
        var serial = SerialNumbers.NewRandom();
        var certificate = authority.Sign(request, now - ClockSkew, now + ttl, serial);
        await ledger.RecordIssuedAsync(new IssuedCertificate(SerialNumbers.Of(certificate), authority.Kind, usage, subject,
            certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(), now), cancellationToken);
        return certificate;
    }

    /// <summary>A client certificate's request: CN = <paramref name="commonName"/>, O = cluster, end entity, digitalSignature,
    /// EKU clientAuth, its key identifier.</summary>
    private CertificateRequest ClientRequest(string commonName, PublicKey subjectKey)
    {
        var subject = new X500DistinguishedNameBuilder();
        // X500DistinguishedNameBuilder encodes the last RDN added first: this gives the usual DER order O, CN (RFC 4514
        // prints CN first).
        subject.AddCommonName(commonName);
        subject.AddOrganizationName(authorities.ClusterName);
        var request = CertificateAuthority.NewRequest(subject.Build(), subjectKey);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuth)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(subjectKey, false));
        return request;
    }

    private static void ValidateName(string name, string what)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 256 || name.Any(char.IsControl))
            throw new ArgumentException($"{what} must be 1–256 characters without control characters");
    }

    private static void ValidateTtl(TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero) throw new ArgumentException("a certificate's time to live must be positive");
    }

    private void ValidateUserTtl(TimeSpan ttl, bool allowAboveMax)
    {
        ValidateTtl(ttl);
        if (ttl > maxUserTtl && !allowAboveMax)
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl,
                $"a user certificate's time to live is above pki.max_user_cert_ttl ({Durations.Format(maxUserTtl)}); cap it before issuing");
    }
}
