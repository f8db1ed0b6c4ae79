using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.Access.Login;

namespace Gatehouse.EndToEnd;

/// <summary>The login throttle against a real proxy under concurrent guessing (issue 11: 27 of 40 got through before 429).</summary>
public sealed class LoginThrottleTests
{
    [Fact]
    public async Task Forty_concurrent_bad_logins_from_one_address_get_at_most_the_limit_to_the_password_check()
    {
        // A proxy of its own: the guesses throttle 127.0.0.1, which every other login test comes from.
        await using var proxy = await ProxyUnderTest.StartAsync("throttle-e2e");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["user"] = "nobody", ["password"] = "a guess of no consequence", ["public_key"] = key.ExportSubjectPublicKeyInfoPem(),
        });
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 40,
            // The proxy's certificate is not what this test is about.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        }) { BaseAddress = new Uri($"https://{proxy.Address}/"), Timeout = TimeSpan.FromSeconds(120) };

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await http.PostAsync("v1/login", new StringContent(body, Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }));

        Assert.Equal(LoginService.MaxFailuresPerAddress, answers.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(40 - LoginService.MaxFailuresPerAddress, answers.Count(s => s == HttpStatusCode.TooManyRequests));
        var checkedPasswords = (await proxy.AuditAsync("--type", "user.login.failed", "--limit", "1000"))
            .Count(e => e.GetProperty("reason").GetString()!.StartsWith("Unauthenticated:", StringComparison.Ordinal));
        Assert.Equal(LoginService.MaxFailuresPerAddress, checkedPasswords);
    }
}
