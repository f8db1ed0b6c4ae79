using System.Security.Cryptography;

namespace Gatehouse.Tests.Pki.Ssh;

/// <summary>Keys generated at test time by a short name, so theories can name them in their data.</summary>
internal static class TestKeys
{
    public static AsymmetricAlgorithm Create(string kind) => kind switch
    {
        "P-256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        "P-384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
        "P-521" => ECDsa.Create(ECCurve.NamedCurves.nistP521),
        "RSA-3072" => RSA.Create(3072),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown test key kind"),
    };

    /// <summary>What ssh-keygen calls the key type in "Signing CA: ECDSA SHA256:… (using …)".</summary>
    public static string SshKeygenKind(string kind) => kind.StartsWith("RSA", StringComparison.Ordinal) ? "RSA" : "ECDSA";

    public static string SignatureAlgorithm(string kind) => kind switch
    {
        "P-256" => "ecdsa-sha2-nistp256",
        "P-384" => "ecdsa-sha2-nistp384",
        "P-521" => "ecdsa-sha2-nistp521",
        _ => "rsa-sha2-512",
    };

    public static string CertificateType(string kind) => kind switch
    {
        "P-256" => "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "P-384" => "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "P-521" => "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        _ => "ssh-rsa-cert-v01@openssh.com",
    };
}
