using System.Security.Claims;
using System.Text.Encodings.Web;
using Gatehouse.ForwardedCerts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// The ASP.NET authentication scheme for client certificates: the one a trusted front forwarded, or else the one
/// presented in our own TLS handshake. Success makes the request's <see cref="Caller"/> (in
/// <see cref="RequestIdentityFeature.Caller"/>; the principal carries only the name and roles); failure carries the
/// reason in ALB's vocabulary, which the challenge answers as 401 JSON.
/// </summary>
/// <remarks>
/// Not Microsoft.AspNetCore.Authentication.Certificate's handler (served now, issue 19): it judges only the certificate of
/// our own TLS handshake, with its own chain policy and the OS's revocation checks, and takes forwarded certificates only
/// through CertificateForwardingMiddleware, which believes a header from any sender. Ours must pick between a trusted
/// front's header and the handshake per request, check the sender, apply our CRLs, depth limit and identity mappings,
/// and refuse with ALB's reasons and an audit event; that is <see cref="ForwardedCertificateAuthenticator"/>, which this
/// scheme only wraps.
/// </remarks>
internal sealed class ClientCertificateAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ForwardedCertificateAuthenticator authenticator,
    AccessAudit audit) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>Our own events go to this category; the base class's chatter ("was challenged") stays under the handler's.</summary>
    private readonly ILogger _log = loggerFactory.CreateLogger("Gatehouse.Proxy.ClientCertificates");

    public const string SchemeName = "ClientCertificate";

    /// <summary>
    /// The request's caller by its client certificate, with the verdict on it (<see cref="ForwardedAuthentication.None"/>
    /// when there was none). Identity is judged only for requests that need it (there is no default scheme), and at most
    /// once per request.
    /// </summary>
    public static async ValueTask<(Caller? Caller, ForwardedAuthentication Verdict)> AuthenticateAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(SchemeName);
        var feature = context.Features.Get<RequestIdentityFeature>();
        if (result.Succeeded && feature?.Caller is { } caller)
        {
            context.User = result.Principal;
            return (caller, feature.Verdict!);
        }
        return (null, feature?.Verdict ?? ForwardedAuthentication.None);
    }

    /// <summary>The sentence a 401 answers when there is no caller: why the certificate was refused (and the reason's
    /// code), or <paramref name="noCertificateHint"/> when there was none.</summary>
    public static string Refusal(ForwardedAuthentication verdict, string noCertificateHint) =>
        verdict.Status == ForwardedStatus.Refused ? $"{verdict.Message} ({verdict.Reason})" : noCertificateHint;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var feature = Context.Features.Get<RequestIdentityFeature>();
        if (feature is null) return AuthenticateResult.NoResult();
        if (feature.Verdict is null)
        {
            var (verdict, caller) = await JudgeAsync(feature);
            feature.Verdict = verdict;
            feature.Caller = caller;
        }
        return feature.Verdict.Status switch
        {
            ForwardedStatus.Authenticated => AuthenticateResult.Success(new AuthenticationTicket(Principal(feature.Caller!), SchemeName)),
            ForwardedStatus.Refused => AuthenticateResult.Fail(feature.Verdict.Message),
            _ => AuthenticateResult.NoResult(),
        };
    }

    private async Task<(ForwardedAuthentication Verdict, Caller? Caller)> JudgeAsync(RequestIdentityFeature feature)
    {
        bool fresh;
        ForwardedAuthentication verdict;
        if (feature.Front is { } front)
        {
            await authenticator.PrefetchAsync(front, feature.FrontHeaders!, Context.RequestAborted); // OCSP, off the synchronous path
            verdict = authenticator.Authenticate(front, feature.FrontHeaders!, feature.Client, out fresh);
        }
        else if (await Context.Connection.GetClientCertificateAsync(Context.RequestAborted) is { } presented)
        {
            await authenticator.PrefetchHandshakeAsync(presented, [], Context.RequestAborted);
            verdict = authenticator.AuthenticateHandshake(presented, [], feature.Client, out fresh);
            if (Context.Features.Get<TunnelledConnection>() is { Outer: { } outer } tunnel && verdict.Status == ForwardedStatus.Authenticated
                && await TunnelBinding.EnforceAsync(audit, _log, outer, Caller.Of(verdict, feature.Client), tunnel.Arrival, Context.Connection.Id,
                    Context.RequestAborted) is { } refusal)
                return (ForwardedAuthentication.Refuse(null, TunnelBinding.Reason, refusal, verdict.Certificate), null);
        }
        else
        {
            return (ForwardedAuthentication.None, null);
        }
        if (fresh && verdict.Status != ForwardedStatus.NoCertificate) await AuditAsync(verdict, feature);
        return (verdict, verdict.Status == ForwardedStatus.Authenticated ? Caller.Of(verdict, feature.Client) : null);
    }

    private async Task AuditAsync(ForwardedAuthentication verdict, RequestIdentityFeature feature)
    {
        var source = AuditWords.CertificateSource(verdict.Front).Word() + (verdict.Front is null ? "" : $" ({verdict.Front})");
        if (verdict.Status == ForwardedStatus.Authenticated)
        {
            ProxyLog.CertificateAccepted(_log, verdict.Certificate!.Subject, verdict.Certificate.Serial, source, verdict.Identity!.User);
            if (verdict.Warning is { } warning) ProxyLog.CertificateAcceptedWithWarning(_log, verdict.Certificate.Subject, verdict.Certificate.Serial, warning);
        }
        else
            ProxyLog.CertificateRefused(_log, source, verdict.Reason, verdict.Message);
        await audit.CertificateJudgedAsync(verdict, feature.Client, Context.RequestAborted);
    }

    /// <summary>Name and roles, for anything of ASP.NET's that looks at the user; the identity itself is the caller's.</summary>
    private static ClaimsPrincipal Principal(Caller caller) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, caller.User), .. caller.Identity.Roles.Select(r => new Claim(ClaimTypes.Role, r))],
            SchemeName, ClaimTypes.Name, ClaimTypes.Role));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var verdict = Context.Features.Get<RequestIdentityFeature>()?.Verdict;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        await Response.WriteAsJsonAsync(verdict is { Status: ForwardedStatus.Refused }
            ? new { error = verdict.Message, reason = verdict.Reason }
            : new { error = "no client certificate: present a Gatehouse (or mapped company) certificate, directly or through a trusted front", reason = (string?)"NoClientCertificate" });
    }
}
