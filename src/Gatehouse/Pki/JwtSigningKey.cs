using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Pki;

/// <summary>
/// The cluster's key for the JWTs handed to HTTP apps (Gatehouse-Jwt-Assertion): ECDSA P-256, ES256 (RFC 7518 §3.4).
/// Its public half is published at /.well-known/jwks.json under a kid that is the RFC 7638 thumbprint. Tokens, the JWK
/// and its thumbprint come from Microsoft.IdentityModel; the key's storage and the JWKS document's shape are ours.
/// </summary>
internal sealed class JwtSigningKey : IDisposable
{
    private readonly ECDsa _key;
    private readonly SigningCredentials _credentials;
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false }; // the caller sets iat/nbf/exp

    public JwtSigningKey(ECDsa key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        if (key.KeySize != 256 || !parameters.Curve.IsNamed)
            throw new CryptographicException("the JWT key must be ECDSA P-256 (ES256)");
        _key = key;
        var securityKey = new ECDsaSecurityKey(key);
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(securityKey);
        (X, Y) = (jwk.X, jwk.Y);
        KeyId = Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()); // RFC 7638
        securityKey.KeyId = KeyId;
        _credentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256);
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

    /// <summary>A compact JWS (RFC 7515 §7.1) of <paramref name="claims"/>, header {alg: ES256, kid, typ: JWT}.</summary>
    public string Sign(IReadOnlyDictionary<string, object> claims) =>
        Handler.CreateToken(new SecurityTokenDescriptor { Claims = claims.ToDictionary(), SigningCredentials = _credentials, TokenType = "JWT" });

    public void Dispose() => _key.Dispose();
}
