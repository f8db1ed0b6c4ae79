using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Storage;

namespace Gatehouse.Client.Profiles;

/// <summary>
/// A Gatehouse identity on disk, in the files standard tools take directly: <c>cert.pem</c> + <c>key.pem</c> (curl
/// <c>--cert/--key</c>, kubectl), <c>ca.pem</c> (the user CA, for balancer trust stores), and <c>ssh-key</c> +
/// <c>ssh-key.pub</c> + <c>ssh-cert.pub</c> (<c>ssh -i ssh-key -o CertificateFile=ssh-cert.pub</c>: ssh pairs a
/// certificate with a PEM private key through the <c>.pub</c> beside the key). Keys are owner-only.
/// </summary>
internal sealed record IdentityFiles(string CertificatePem, string PrivateKeyPem, string CaPem, string SshCertificateLine, string SshPrivateKeyPem,
    string SshPublicKeyLine)
{
    public const string Certificate = "cert.pem", PrivateKey = "key.pem", Ca = "ca.pem", SshCertificate = "ssh-cert.pub", SshKey = "ssh-key",
        SshPublicKey = "ssh-key.pub";

    /// <summary>
    /// Loads a PEM certificate and its private key (an identity's cert.pem + key.pem, or an outer pair) with the key
    /// usable by SslStream on every platform (through PKCS#12: a PEM-loaded key is ephemeral on some). Null, with what went
    /// wrong, when the files cannot be read; expiry is the caller's to judge.
    /// </summary>
    public static (X509Certificate2? Certificate, string? Problem) LoadPair(string certificatePath, string keyPath)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            return (X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null), null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (null, e.Message.TrimEnd('.'));
        }
    }

    /// <summary>Writes all the files (each atomically); returns their paths by name.</summary>
    public IReadOnlyDictionary<string, string> WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var paths = new Dictionary<string, string>();
        void Write(string name, string contents, UnixFileMode? mode = null)
        {
            var path = Path.GetFullPath(Path.Combine(directory, name));
            AtomicFile.Write(path, contents.ReplaceLineEndings("\n").TrimEnd('\n') + "\n", mode);
            paths[name] = path;
        }
        Write(PrivateKey, PrivateKeyPem, AtomicFile.OwnerOnly);
        Write(SshKey, SshPrivateKeyPem, AtomicFile.OwnerOnly);
        Write(Certificate, CertificatePem);
        Write(Ca, CaPem);
        Write(SshPublicKey, SshPublicKeyLine);
        Write(SshCertificate, SshCertificateLine);
        return paths;
    }
}
