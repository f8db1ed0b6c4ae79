using System.Net;
using System.Text.Json.Serialization;
using Gatehouse.Proxy.Authentication;

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
    /// <summary>The caller this session stands for, from <paramref name="client"/>, until the session ends.</summary>
    public Caller CallerFrom(IPAddress client) => new(Identity, IdentitySource.WebSession, client, ExpiresAt, SessionId: Id);
}

/// <summary>The cookie's plaintext: a format version, then the session.</summary>
internal sealed record WebSessionPayload(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("session")] WebSession Session);

[JsonSerializable(typeof(WebSessionPayload))]
internal sealed partial class WebSessionJson : JsonSerializerContext;
