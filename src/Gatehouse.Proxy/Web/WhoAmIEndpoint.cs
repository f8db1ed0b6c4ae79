using System.Text.Json.Serialization;
using Gatehouse.Proxy.Authentication;
using Microsoft.AspNetCore.Authentication;

namespace Gatehouse.Proxy.Web;

/// <summary>GET /v1/whoami: the identity Gatehouse derived for this very request, or 401 with the reason — the first
/// thing to check when setting up a balancer.</summary>
internal static class WhoAmIEndpoint
{
    public static void Map(WebApplication app) =>
        app.MapGet("/v1/whoami", async (HttpContext context) =>
        {
            if (await ClientCertificateAuthenticationHandler.AuthenticateAsync(context) is not ({ Certificate: { } certificate } caller, _))
            {
                await context.ChallengeAsync(ClientCertificateAuthenticationHandler.SchemeName);
                return Results.Empty;
            }
            var identity = caller.Identity;
            return Results.Json(new WhoAmI(
                caller.Source.Word(), caller.Front, identity.User, identity.Roles, identity.Logins, identity.IssuedVia,
                certificate.Subject, certificate.Issuer, certificate.Serial, certificate.Sha256, certificate.NotAfter, caller.Client.ToString()),
                WhoAmIJson.Default.WhoAmI);
        });
}

internal sealed record WhoAmI(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("front")] string? Front,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("logins")] IReadOnlyList<string> Logins,
    [property: JsonPropertyName("issued_via")] string IssuedVia,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("serial")] string Serial,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("not_after")] DateTimeOffset NotAfter,
    [property: JsonPropertyName("client_ip")] string ClientIp);

[JsonSerializable(typeof(WhoAmI))]
internal sealed partial class WhoAmIJson : JsonSerializerContext;
