using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gatehouse.EndToEnd.Apps;

/// <summary>What an app does with Gatehouse-Jwt-Assertion: check it against the proxy's published keys.</summary>
internal static class AssertionCheck
{
    /// <summary>Checks the JWS signature against the key /.well-known/jwks.json publishes (by kid); returns the claims.</summary>
    public static async Task<JsonElement> VerifiedClaimsAsync(HttpAppsCluster cluster, string jwt)
    {
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Base64UrlDecode(parts[0]));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        var kid = header.RootElement.GetProperty("kid").GetString();

        var jwks = await cluster.CurlDirectAsync("/.well-known/jwks.json", certificate: null);
        Assert.True(jwks.Status == 200, jwks.ToString());
        var jwk = jwks.Json!.Value.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kid").GetString() == kid);
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64UrlDecode(jwk.GetProperty("x").GetString()!), Y = Base64UrlDecode(jwk.GetProperty("y").GetString()!) },
        });
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64UrlDecode(parts[2]), HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation), "the assertion's signature does not verify against jwks.json");
        // RFC 7638: the kid is the thumbprint of the key as published.
        var thumbprint = SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{jwk.GetProperty("x").GetString()}\",\"y\":\"{jwk.GetProperty("y").GetString()}\"}}"));
        Assert.Equal(Convert.ToBase64String(thumbprint).TrimEnd('=').Replace('+', '-').Replace('/', '_'), kid);
        using var claims = JsonDocument.Parse(Base64UrlDecode(parts[1]));
        return claims.RootElement.Clone();
    }

    public static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
