using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// The ASP.NET authentication scheme for client certificates: the one a trusted front forwarded, or else the one
/// presented in our own TLS handshake. Success carries the Gatehouse identity as claims; failure carries the reason
/// in ALB's vocabulary, which the challenge answers as 401 JSON.
/// </summary>
internal sealed class ClientCertificateAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ForwardedCertificateAuthenticator authenticator,
    ClusterState cluster) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>Our own events go to this category; the base class's chatter ("was challenged") stays under the handler's.</summary>
    private readonly ILogger _log = loggerFactory.CreateLogger("Gatehouse.Proxy.ClientCertificates");

    public const string SchemeName = "ForwardedCertificate";
    public const string IdentityClaim = "gatehouse:identity", SourceClaim = "gatehouse:source", FrontClaim = "gatehouse:front";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var feature = Context.Features.Get<RequestIdentityFeature>();
        if (feature is null) return AuthenticateResult.NoResult();
        var verdict = feature.Verdict ??= await JudgeAsync(feature);
        return verdict.Status switch
        {
            ForwardedStatus.Authenticated => AuthenticateResult.Success(new AuthenticationTicket(Principal(verdict), SchemeName)),
            ForwardedStatus.Refused => AuthenticateResult.Fail(verdict.Message),
            _ => AuthenticateResult.NoResult(),
        };
    }

    private async Task<ForwardedAuthentication> JudgeAsync(RequestIdentityFeature feature)
    {
        bool fresh;
        ForwardedAuthentication verdict;
        if (feature.Front is { } front)
        {
            verdict = authenticator.Authenticate(front, feature.FrontHeaders!, feature.Client, out fresh);
        }
        else if (await Context.Connection.GetClientCertificateAsync(Context.RequestAborted) is { } presented)
        {
            verdict = authenticator.AuthenticateHandshake(presented, [], feature.Client, out fresh);
            if (Context.Features.Get<TunnelledConnection>() is { Outer: { } outer } tunnel && verdict is { Identity: { } inner }
                && await TunnelBinding.EnforceAsync(cluster, _log, outer, inner.User, TunnelBinding.InnerCredential.Certificate, verdict.Certificate,
                    feature.Client, tunnel.Arrival, Context.Connection.Id, Context.RequestAborted) is { } refusal)
                return ForwardedAuthentication.Refuse(null, TunnelBinding.Reason, refusal, verdict.Certificate);
        }
        else
        {
            return ForwardedAuthentication.None;
        }
        if (fresh && verdict.Status != ForwardedStatus.NoCertificate) await AuditAsync(verdict, feature.Client);
        return verdict;
    }

    private async Task AuditAsync(ForwardedAuthentication verdict, IPAddress client)
    {
        var source = verdict.Front is null ? "handshake" : $"forwarded-header ({verdict.Front})";
        if (verdict.Status == ForwardedStatus.Authenticated)
            ProxyLog.CertificateAccepted(_log, verdict.Certificate!.Subject, verdict.Certificate.Serial, source, verdict.Identity!.User);
        else
            ProxyLog.CertificateRefused(_log, source, verdict.Reason, verdict.Message);
        await cluster.Audit.RecordAsync(AuditLog.Event(verdict.Status == ForwardedStatus.Authenticated
            ? AuditEventTypes.ClientCertificateAccepted : AuditEventTypes.ClientCertificateRefused, verdict.Identity?.User) with
        {
            IdentitySource = verdict.Front is null ? "handshake" : "forwarded-header",
            CertificateIssuer = verdict.Certificate?.Issuer,
            CertificateSerial = verdict.Certificate?.Serial,
            CertificateSha256 = verdict.Certificate?.Sha256,
            SourceIp = client.ToString(),
            Decision = verdict.Status == ForwardedStatus.Authenticated ? "allowed" : "denied",
            Reason = verdict.Reason is null ? verdict.Message : $"{verdict.Reason}: {verdict.Message}",
            Details = verdict.Front is null ? null : new Dictionary<string, string> { ["front"] = verdict.Front },
        }, Context.RequestAborted);
    }

    private static ClaimsPrincipal Principal(ForwardedAuthentication verdict)
    {
        var identity = verdict.Identity!;
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, identity.User),
            new(SourceClaim, verdict.Front is null ? "handshake" : "forwarded-header"),
            new(IdentityClaim, JsonSerializer.Serialize(identity)),
        };
        if (verdict.Front is not null) claims.Add(new Claim(FrontClaim, verdict.Front));
        claims.AddRange(identity.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var verdict = Context.Features.Get<RequestIdentityFeature>()?.Verdict;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        await Response.WriteAsJsonAsync(verdict is { Status: ForwardedStatus.Refused }
            ? new { error = verdict.Message, reason = verdict.Reason }
            : new { error = "no client certificate: present a Gatehouse (or mapped company) certificate, directly or through a trusted front", reason = (string?)"NoClientCertificate" });
    }
}
