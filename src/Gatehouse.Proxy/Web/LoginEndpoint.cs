using System.Text.Json.Serialization;
using Gatehouse.Access.Login;
using Gatehouse.Cluster;

namespace Gatehouse.Proxy.Web;

/// <summary>
/// POST /v1/login: user name + password (+ TOTP) and the client's public key in; the user's X.509 and OpenSSH
/// certificates, the CA bundle and the proxy's routing facts out.
/// </summary>
internal static class LoginEndpoint
{
    public static void Map(WebApplication app, ClusterState cluster, ProxyOptions options, LoginService logins)
    {
        app.MapPost("/v1/login", async (HttpContext context) =>
        {
            // A login is a few hundred bytes; do not read megabytes from anyone who asks.
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = 64 * 1024;
            LoginBody? body;
            try
            {
                body = await context.Request.ReadFromJsonAsync(LoginJson.Default.LoginBody, context.RequestAborted);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or BadHttpRequestException)
            {
                return Error(StatusCodes.Status400BadRequest, "bad_request", "the body must be JSON: {\"user\", \"password\", \"totp\"?, \"public_key\", \"ttl\"?}");
            }
            if (body is null || string.IsNullOrEmpty(body.User) || body.Password is null || string.IsNullOrEmpty(body.PublicKey))
                return Error(StatusCodes.Status400BadRequest, "bad_request", "user, password and public_key are required");
            TimeSpan? ttl = null;
            if (body.TtlSeconds is { } seconds)
            {
                if (seconds <= 0) return Error(StatusCodes.Status400BadRequest, "bad_request", "ttl_seconds must be positive");
                // Any larger lifetime is capped by the login (roles, pki.max_user_cert_ttl), and the answer says so.
                ttl = seconds > MaxSeconds ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);
            }

            // Throttling and audit use the real client address (X-Forwarded-For walked past trusted hops), not the balancer's.
            var client = context.Features.Get<Authentication.RequestIdentityFeature>()?.Client ?? context.Connection.RemoteIpAddress;
            var result = await logins.LoginAsync(new LoginRequest(body.User, body.Password, body.Totp, body.PublicKey, ttl, client),
                context.RequestAborted);
            if (!result.Ok)
                return result.Failure switch
                {
                    LoginFailure.BadRequest => Error(StatusCodes.Status400BadRequest, "bad_request", result.Message),
                    LoginFailure.Throttled => Error(StatusCodes.Status429TooManyRequests, "throttled", result.Message),
                    LoginFailure.Locked => Error(StatusCodes.Status403Forbidden, "locked", result.Message),
                    LoginFailure.Forbidden => Error(StatusCodes.Status403Forbidden, "forbidden", result.Message),
                    _ => Error(StatusCodes.Status401Unauthorized, "unauthenticated", result.Message),
                };
            using var certificate = result.Certificate!;
            var authorities = cluster.Authorities;
            return Results.Json(new LoginResponse(
                authorities.ClusterName,
                result.Identity!.User,
                result.Identity.Roles,
                result.Identity.Logins,
                certificate.ExportCertificatePem(),
                result.SshCertificate!.ToAuthorizedKeysLine($"{result.Identity.User}@{authorities.ClusterName}"),
                authorities.User.Certificate.ExportCertificatePem(),
                authorities.Host.Certificate.ExportCertificatePem(),
                authorities.SshUser.PublicKeyLine,
                certificate.NotAfter.ToUniversalTime(),
                new ProxyFacts(options.PublicAddresses, options.Listen.Port),
                result.Notice), LoginJson.Default.LoginResponse);
        });
    }

    private static readonly long MaxSeconds = (long)TimeSpan.MaxValue.TotalSeconds;

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new ErrorBody(false, message, code), LoginJson.Default.ErrorBody, statusCode: status);
}

internal sealed record LoginBody(
    [property: JsonPropertyName("user")] string? User,
    [property: JsonPropertyName("password")] string? Password,
    [property: JsonPropertyName("totp")] string? Totp,
    [property: JsonPropertyName("public_key")] string? PublicKey,
    [property: JsonPropertyName("ttl_seconds")] long? TtlSeconds);

internal sealed record ProxyFacts(
    [property: JsonPropertyName("public_addr")] IReadOnlyList<string> PublicAddresses,
    [property: JsonPropertyName("port")] int Port);

internal sealed record LoginResponse(
    [property: JsonPropertyName("cluster_name")] string ClusterName,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("logins")] IReadOnlyList<string> Logins,
    [property: JsonPropertyName("certificate")] string Certificate,
    [property: JsonPropertyName("ssh_certificate")] string SshCertificate,
    [property: JsonPropertyName("user_ca")] string UserCa,
    [property: JsonPropertyName("host_ca")] string HostCa,
    [property: JsonPropertyName("ssh_user_ca")] string SshUserCa,
    [property: JsonPropertyName("expires")] DateTime Expires,
    [property: JsonPropertyName("proxy")] ProxyFacts Proxy,
    [property: JsonPropertyName("notice"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Notice);

internal sealed record ErrorBody(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("code")] string Code);

[JsonSerializable(typeof(LoginBody))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class LoginJson : JsonSerializerContext;
