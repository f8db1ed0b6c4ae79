using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Pki;

/// <summary>
/// The cluster's key for the JWTs handed to HTTP apps (Gatehouse-Jwt-Assertion): ECDSA P-256, ES256 (RFC 7518 §3.4).
/// Its public half is published at /.well-known/jwks.json under a kid that is the RFC 7638 thumbprint.
/// </summary>
internal sealed class JwtSigningKey : IDisposable
{
    private readonly ECDsa _key;

    public JwtSigningKey(ECDsa key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        if (key.KeySize != 256 || !parameters.Curve.IsNamed)
            throw new CryptographicException("the JWT key must be ECDSA P-256 (ES256)");
        _key = key;
        X = Base64Url(parameters.Q.X!);
        Y = Base64Url(parameters.Q.Y!);
        // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
        KeyId = Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes($"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{X}\",\"y\":\"{Y}\"}}")));
    }

    public static JwtSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public string KeyId { get; }
    public string X { get; }
    public string Y { get; }

    public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

    public byte[] ExportPrivateKey() => _key.ExportPkcs8PrivateKey();

    public bool HasPublicKey(string pem)
    {
        using var other = ECDsa.Create();
        try
        {
            other.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
        return other.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(_key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The JWK Set document (RFC 7517 §5) with this one key.</summary>
    public string JwksJson() => JsonSerializer.Serialize(new
    {
        keys = new[] { new { kty = "EC", crv = "P-256", x = X, y = Y, kid = KeyId, use = "sig", alg = "ES256" } },
    });

    /// <summary>A compact JWS (RFC 7515 §7.1) of <paramref name="claims"/>, header {alg: ES256, typ: JWT, kid}.</summary>
    public string Sign(IReadOnlyDictionary<string, object> claims)
    {
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "ES256", ["typ"] = "JWT", ["kid"] = KeyId }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signingInput = $"{header}.{payload}";
        // JWS wants r||s (RFC 7518 §3.4), not the DER sequence .NET produces by default.
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    public static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() => _key.Dispose();
}
