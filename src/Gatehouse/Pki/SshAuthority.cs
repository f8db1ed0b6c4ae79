using System.Security.Cryptography;
using Gatehouse.Pki.Ssh;

namespace Gatehouse.Pki;

/// <summary>
/// An SSH CA of the cluster: the user CA signs OpenSSH user certificates that sshd trusts through <c>TrustedUserCAKeys</c>;
/// the host CA signs OpenSSH host certificates that ssh trusts through an <c>@cert-authority</c> known_hosts line.
/// </summary>
internal sealed class SshAuthority : IDisposable
{
    private readonly AsymmetricAlgorithm _key;
    private readonly OpenSshCertificateSigner _signer;

    /// <param name="kind"><see cref="Authorities.SshUserKind"/> or <see cref="Authorities.SshHostKind"/>.</param>
    public SshAuthority(string kind, AsymmetricAlgorithm key, string cluster)
    {
        if (kind is not (Authorities.SshUserKind or Authorities.SshHostKind))
            throw new ArgumentException($"'{kind}' is not an SSH authority kind", nameof(kind));
        Kind = kind;
        _key = key;
        _signer = new OpenSshCertificateSigner(key);
        // The comment is what people see in known_hosts and TrustedUserCAKeys files; the key blob alone is compared.
        var comment = kind == Authorities.SshUserKind ? $"gatehouse-ssh-user-ca@{cluster}" : $"gatehouse-{cluster}-host-ca";
        PublicKeyLine = OpenSshKeyFormat.PublicKeyLine(key, comment);
        Fingerprint = OpenSshKeyFormat.Fingerprint(key);
    }

    /// <summary><see cref="Authorities.SshUserKind"/> or <see cref="Authorities.SshHostKind"/>.</summary>
    public string Kind { get; }

    /// <summary>"&lt;type&gt; &lt;base64&gt; &lt;comment&gt;": the user CA's line for sshd's <c>TrustedUserCAKeys</c> file, or
    /// the host CA's bare public key.</summary>
    public string PublicKeyLine { get; }

    /// <summary>"SHA256:…", as <c>ssh-keygen -l</c> prints it.</summary>
    public string Fingerprint { get; }

    public string KeyFamily => _key.Family();

    /// <summary>
    /// The host CA's known_hosts line, <c>@cert-authority PATTERNS &lt;type&gt; &lt;base64&gt; gatehouse-CLUSTER-host-ca</c>:
    /// ssh then accepts any host certificate this CA signed for the name it connects to (sshd(8) "SSH_KNOWN_HOSTS FILE
    /// FORMAT"). Throws <see cref="ArgumentException"/> for patterns a known_hosts file cannot hold, and
    /// <see cref="InvalidOperationException"/> on the user CA, which vouches for no host.
    /// </summary>
    /// <param name="hostPatterns">Comma-separated host patterns the CA is trusted for, e.g. <c>*</c> or
    /// <c>*.example.com,10.0.0.*</c>.</param>
    public string KnownHostsLine(string hostPatterns = "*")
    {
        if (Kind != Authorities.SshHostKind)
            throw new InvalidOperationException($"the {Kind} CA signs no host certificates; use the {Authorities.SshHostKind} CA.");
        return OpenSshKnownHosts.CertAuthorityLine(hostPatterns, PublicKeyLine);
    }

    public byte[] ExportPrivateKey() => _key.ExportPkcs8();

    public OpenSshCertificate Sign(OpenSshCertificateRequest request) => _signer.Sign(request);

    public void Dispose() => _key.Dispose();
}
