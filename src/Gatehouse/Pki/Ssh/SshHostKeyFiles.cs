using System.Security.Cryptography;
using Gatehouse.Storage;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// A node's SSH host key and host certificate, in the files sshd reads through <c>HostKey</c> and <c>HostCertificate</c>,
/// named as OpenSSH names its own: <c>ssh_host_ecdsa_key</c> (the private key, owner-only), <c>ssh_host_ecdsa_key.pub</c>
/// and <c>ssh_host_ecdsa_key-cert.pub</c>.
/// </summary>
internal sealed record SshHostKeyFiles(string PrivateKeyPem, string PublicKeyLine, string CertificateLine)
{
    public const string PrivateKey = "ssh_host_ecdsa_key", PublicKey = "ssh_host_ecdsa_key.pub", Certificate = "ssh_host_ecdsa_key-cert.pub";

    /// <summary>The names in the order they are written.</summary>
    public static IReadOnlyList<string> Names { get; } = [PrivateKey, PublicKey, Certificate];

    /// <param name="comment">Ends the .pub and -cert.pub lines, e.g. "node1@cluster".</param>
    public static SshHostKeyFiles For(ECDsa key, OpenSshCertificate certificate, string comment) =>
        new(OpenSshKeyFormat.PrivateKeyPem(key), OpenSshKeyFormat.PublicKeyLine(key, comment), certificate.ToAuthorizedKeysLine(comment));

    /// <summary>The full path of each file in <paramref name="directory"/>, by name.</summary>
    public static IReadOnlyDictionary<string, string> PathsIn(string directory) =>
        Names.ToDictionary(name => name, name => Path.GetFullPath(Path.Combine(directory, name)));

    /// <summary>The lines that make sshd present this key and certificate.</summary>
    public static IReadOnlyList<string> SshdConfigLines(string directory)
    {
        var paths = PathsIn(directory);
        return [$"HostKey {paths[PrivateKey]}", $"HostCertificate {paths[Certificate]}"];
    }

    /// <summary>Writes the three files together (<see cref="AtomicFile.WriteAll"/>: none changes unless all could be
    /// written), the private key owner-only from its first byte; returns their paths by name.</summary>
    public IReadOnlyDictionary<string, string> WriteTo(string directory)
    {
        var paths = PathsIn(directory);
        static string Text(string contents) => contents.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";
        AtomicFile.WriteAll(
        [
            new(paths[PrivateKey], Text(PrivateKeyPem), AtomicFile.OwnerOnly),
            new(paths[PublicKey], Text(PublicKeyLine)),
            new(paths[Certificate], Text(CertificateLine)),
        ]);
        return paths;
    }
}
