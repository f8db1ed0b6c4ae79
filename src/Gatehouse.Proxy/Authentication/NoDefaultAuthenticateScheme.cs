using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// The scheme provider with no default authenticate scheme, ever. Since ASP.NET Core 7 a single registered scheme is
/// the default automatically (and the switch to turn that off is internal), and UseAuthentication authenticates the
/// default scheme on every request: here that would decode and judge a forwarded certificate for /healthz too.
/// Identity is judged only where it is used — apps, Kubernetes, /v1/whoami, the tunnel's outer binding — each calling
/// AuthenticateAsync(<see cref="ClientCertificateAuthenticationHandler.SchemeName"/>).
/// </summary>
internal sealed class NoDefaultAuthenticateScheme(IOptions<AuthenticationOptions> options) : AuthenticationSchemeProvider(options)
{
    public override Task<AuthenticationScheme?> GetDefaultAuthenticateSchemeAsync() => Task.FromResult<AuthenticationScheme?>(null);
}
