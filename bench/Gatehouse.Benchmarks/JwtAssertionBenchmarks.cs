using BenchmarkDotNet.Attributes;
using Gatehouse.Pki;

namespace Gatehouse.Benchmarks;

/// <summary>
/// What an HTTP app request pays for its Gatehouse-Jwt-Assertion: one ES256 signature over claims shaped like
/// <c>Gatehouse.Proxy.Apps.IdentityAssertion</c>'s (JSON of the header and claims, base64url, sign, base64url).
/// Measured to decide whether caching the assertion is worth it (docs/benchmarks.md, P4).
/// </summary>
[MemoryDiagnoser]
public class JwtAssertionBenchmarks
{
    private JwtSigningKey _key = null!;

    [GlobalSetup]
    public void Setup() => _key = JwtSigningKey.Generate();

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    [Benchmark]
    public string SignAssertion()
    {
        var now = DateTimeOffset.UtcNow;
        return _key.Sign(new Dictionary<string, object>
        {
            ["iss"] = "https://gatehouse.internal",
            ["sub"] = "alice",
            ["username"] = "alice",
            ["roles"] = new[] { "dev", "ops" },
            ["aud"] = "http://127.0.0.1:8080/",
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(),
        });
    }
}
