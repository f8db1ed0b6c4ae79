using System.Text.Json.Serialization;

namespace Gatehouse.Proxy.Sessions;

/// <summary>
/// A browser's signed-in session for HTTP apps: who (the identity a certificate would carry), from when to when, and a
/// random id that ties the audit of its decisions to its sign-in. It lives only in the browser's cookie, sealed with the
/// master key: stateless on purpose, like a certificate, so it ends at <see cref="ExpiresAt"/> and not before.
/// </summary>
internal sealed record WebSession(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("identity")] Identity.Identity Identity,
    [property: JsonPropertyName("iat")] DateTimeOffset IssuedAt,
    [property: JsonPropertyName("exp")] DateTimeOffset ExpiresAt)
{
    /// <summary>The audit's identity_source for requests and sign-ins by session.</summary>
    public const string IdentitySource = Access.Login.LoginService.WebSessionSource;
}

/// <summary>The cookie's plaintext: a format version, then the session.</summary>
internal sealed record WebSessionPayload(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("session")] WebSession Session);

[JsonSerializable(typeof(WebSessionPayload))]
internal sealed partial class WebSessionJson : JsonSerializerContext;
