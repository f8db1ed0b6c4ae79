using System.Security.Cryptography;
using Gatehouse.Pki.Ssh;

namespace Gatehouse.Pki;

/// <summary>The SSH user CA: signs OpenSSH user certificates that sshd trusts through <c>TrustedUserCAKeys</c>.</summary>
internal sealed class SshAuthority : IDisposable
{
    private readonly AsymmetricAlgorithm _key;
    private readonly OpenSshCertificateSigner _signer;

    public SshAuthority(AsymmetricAlgorithm key, string cluster)
    {
        _key = key;
        _signer = new OpenSshCertificateSigner(key);
        PublicKeyLine = OpenSshKeyFormat.PublicKeyLine(key, $"gatehouse-ssh-user-ca@{cluster}");
        Fingerprint = OpenSshKeyFormat.Fingerprint(key);
    }

    /// <summary>The line for sshd's <c>TrustedUserCAKeys</c> file.</summary>
    public string PublicKeyLine { get; }

    /// <summary>"SHA256:…", as <c>ssh-keygen -l</c> prints it.</summary>
    public string Fingerprint { get; }

    public string KeyFamily => _key.Family();

    public byte[] ExportPrivateKey() => _key.ExportPkcs8();

    public OpenSshCertificate Sign(OpenSshCertificateRequest request) => _signer.Sign(request);

    public void Dispose() => _key.Dispose();
}
