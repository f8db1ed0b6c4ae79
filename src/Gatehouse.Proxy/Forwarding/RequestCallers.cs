using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>The caller of a request Gatehouse forwards (to an HTTP app or a Kubernetes API).</summary>
internal static class RequestCallers
{
    /// <summary>The caller by client certificate, or null with the sentence a 401 answers: why the certificate was refused,
    /// or <paramref name="noCertificateHint"/> when there was none. <paramref name="presented"/>: the request carried a
    /// certificate at all (accepted or refused) — then it, not a session cookie, decides who the caller is.</summary>
    public static async ValueTask<(Caller? Caller, string Refusal, bool Presented)> ByCertificateAsync(HttpContext context, string noCertificateHint)
    {
        var (caller, verdict) = await ClientCertificateAuthenticationHandler.AuthenticateAsync(context);
        return (caller, verdict.Status == ForwardedStatus.Refused ? $"{verdict.Message} ({verdict.Reason})" : noCertificateHint,
            verdict.Status != ForwardedStatus.NoCertificate);
    }
}
