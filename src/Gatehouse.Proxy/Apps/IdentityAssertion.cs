using System.Net;
using System.Net.Sockets;
using Gatehouse.Pki;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// The JWT an HTTP app receives in <see cref="HeaderName"/>: who the user is, signed with the cluster's JWT key so the
/// app can check it against /.well-known/jwks.json. Short-lived, and never valid past the certificate it came from.
/// </summary>
internal static class IdentityAssertion
{
    public const string HeaderName = Forwarding.ForwardedRequestHeaders.AssertionHeaderName;
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>The proxy's first public address as an https URL: the JWT's iss, under which /.well-known/jwks.json is.</summary>
    public static string IssuerOf(ProxyOptions options)
    {
        var host = options.PublicAddresses[0];
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6) host = $"[{host}]";
        return options.Listen.Port == 443 ? $"https://{host}" : $"https://{host}:{options.Listen.Port}";
    }

    public static string Create(JwtSigningKey key, string issuer, Identity.Identity identity, HttpApp app, DateTimeOffset now,
        DateTimeOffset certificateNotAfter)
    {
        var expires = now + Lifetime < certificateNotAfter ? now + Lifetime : certificateNotAfter;
        return key.Sign(new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["sub"] = identity.User,
            ["username"] = identity.User,
            ["roles"] = identity.Roles,
            ["aud"] = app.Uri.ToString(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = expires.ToUnixTimeSeconds(),
        });
    }
}
