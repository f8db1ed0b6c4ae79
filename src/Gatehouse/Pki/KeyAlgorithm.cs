using System.Security.Cryptography;

namespace Gatehouse.Pki;

/// <summary>The key types Gatehouse generates for its authorities and for the identities it issues.</summary>
internal enum KeyAlgorithm
{
    EcdsaP256,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

internal static class KeyAlgorithms
{
    /// <summary>The names used in configuration and on the command line.</summary>
    public static readonly IReadOnlyDictionary<string, KeyAlgorithm> ByName = new Dictionary<string, KeyAlgorithm>(StringComparer.OrdinalIgnoreCase)
    {
        ["ecdsa-p256"] = KeyAlgorithm.EcdsaP256,
        ["rsa-2048"] = KeyAlgorithm.Rsa2048,
        ["rsa-3072"] = KeyAlgorithm.Rsa3072,
        ["rsa-4096"] = KeyAlgorithm.Rsa4096,
    };

    public static string Name(this KeyAlgorithm algorithm) => ByName.First(kv => kv.Value == algorithm).Key;

    public static AsymmetricAlgorithm Generate(this KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.EcdsaP256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        KeyAlgorithm.Rsa2048 => RSA.Create(2048),
        KeyAlgorithm.Rsa3072 => RSA.Create(3072),
        KeyAlgorithm.Rsa4096 => RSA.Create(4096),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Reads a PKCS#8 private key of the given family ("ecdsa" or "rsa").</summary>
    public static AsymmetricAlgorithm ImportPkcs8(string family, ReadOnlySpan<byte> pkcs8)
    {
        AsymmetricAlgorithm key = family switch
        {
            "ecdsa" => ECDsa.Create(),
            "rsa" => RSA.Create(),
            _ => throw new CryptographicException($"unknown key family '{family}'"),
        };
        try
        {
            switch (key)
            {
                case ECDsa ec: ec.ImportPkcs8PrivateKey(pkcs8, out _); break;
                case RSA rsa: rsa.ImportPkcs8PrivateKey(pkcs8, out _); break;
            }
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public static string Family(this AsymmetricAlgorithm key) => key switch
    {
        ECDsa => "ecdsa",
        RSA => "rsa",
        _ => throw new ArgumentException($"unsupported key type {key.GetType().Name}", nameof(key)),
    };

    public static byte[] ExportPkcs8(this AsymmetricAlgorithm key) => key.ExportPkcs8PrivateKey();

    /// <summary>The signature generator a CA with this key signs certificates and CRLs with (SHA-256, RSA PKCS#1 v1.5).</summary>
    public static X509SignatureGeneratorAndHash SignatureGenerator(this AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => new(System.Security.Cryptography.X509Certificates.X509SignatureGenerator.CreateForECDsa(ec), HashAlgorithmName.SHA256, null),
        RSA rsa => new(System.Security.Cryptography.X509Certificates.X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new ArgumentException($"unsupported key type {key.GetType().Name}", nameof(key)),
    };
}

internal sealed record X509SignatureGeneratorAndHash(
    System.Security.Cryptography.X509Certificates.X509SignatureGenerator Generator,
    HashAlgorithmName Hash,
    RSASignaturePadding? RsaPadding);
