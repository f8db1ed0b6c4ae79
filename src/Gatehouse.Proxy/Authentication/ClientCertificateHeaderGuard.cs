using System.Net;
using Gatehouse.Audit;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// The first step of every request. A request that did not come from a trusted front (source network and secret)
/// loses every header that could carry a client certificate, in every format, before anything reads it; the attempt
/// is logged and audited. A request from a front keeps only that front's own headers, moved out of the request into
/// <see cref="RequestIdentityFeature"/> so that nothing downstream (apps included) ever sees them. A request inside a
/// tunnel never comes from a front, even when the tunnel was opened from a front's address.
/// </summary>
internal sealed class ClientCertificateHeaderGuard(RequestDelegate next, ForwardedCertificateAuthenticator authenticator, AccessAudit audit,
    TimeProvider time, ProxyOptions options, ILogger<ClientCertificateHeaderGuard> logger)
{
    /// <summary>Forgery events: one per source a window, and at most <see cref="ForgeryAuditLimit"/> a window in all.</summary>
    internal static readonly TimeSpan ForgeryAuditWindow = TimeSpan.FromSeconds(10);
    internal const int ForgeryAuditLimit = 30;

    // Keyed by source, not by what was sent: with the header set in the key, every subset of the known names was a new
    // event and anyone could write to the audit trail at line rate (issue 11).
    private readonly AuditThrottle _forgeryAudit = new(ForgeryAuditWindow, globalLimit: ForgeryAuditLimit);

    // One delegate for every request (a method group converted per call allocates one each time).
    private readonly Func<IPAddress, bool> _isTrustedHop = options.IsTrustedHop;
    private static readonly Func<IPAddress, bool> NoHopTrusted = _ => false;

    public async Task InvokeAsync(HttpContext context)
    {
        var peer = ClientAddress.Normalize(context.Connection.RemoteIpAddress ?? IPAddress.None);
        var requestHeaders = context.Request.Headers;
        // Only headers that can carry a certificate or a front's secret matter here, and most requests have none: they
        // cost one look at each header name and nothing else. The names match with '_' as '-' (FoldedHeaderNameComparer),
        // so X_Amzn_Mtls_Clientcert from a stranger is removed and reported like the real name.
        var names = authenticator.Options.CertificateHeaderNames;
        Dictionary<string, IReadOnlyList<string>>? present = null;
        foreach (var (name, values) in requestHeaders)
        {
            if (!names.Contains(name)) continue;
            present ??= new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
            present[name] = [.. values.Where(v => v is not null)!];
        }
        var headers = present is null ? ReceivedHeaders.None : new ReceivedHeaders(present);

        TrustedFront? front = null;
        ForwardedClient address;
        var forwardedFor = requestHeaders["X-Forwarded-For"];
        IReadOnlyList<string> forwardedLines = forwardedFor.Count == 0 ? [] : [.. forwardedFor.OfType<string>()];
        if (context.Features.Get<TunnelledConnection>() is { } tunnel)
        {
            // Inside a tunnel there are no hops and no fronts, whatever address opened it: the client is who opened it,
            // and any X-Forwarded-For in here is the client's own claim.
            address = ClientAddress.Walk(tunnel.Client, forwardedLines, NoHopTrusted, out _);
        }
        else
        {
            front = authenticator.FrontFor(peer, headers);
            address = ClientAddress.Walk(peer, forwardedLines, _isTrustedHop, out var ignoredForwardedFor);
            if (ignoredForwardedFor) ProxyLog.IgnoredForwardedFor(logger, peer.ToString());
        }
        var client = address.Client;

        // A front's own headers are the names exactly as configured (case aside). A '_' spelling of one of them is not the
        // front's header: the balancer writes its header under the configured name, so any other spelling came from the
        // client and was passed along (a balancer with underscores allowed). It is removed and reported like any foreign
        // header, never honoured and never merged with the real one, while the real one is still judged on its own — it is
        // the balancer's word. Refusing the whole request instead would gain nothing: the variant never reaches a decoder
        // or an app. The same holds for the secret: only the exact name can make a request the front's (CarriesSecret).
        HashSet<string>? own = null;
        if (front is not null)
        {
            own = new HashSet<string>(front.Headers.Values, StringComparer.OrdinalIgnoreCase);
            if (front.SharedSecret is { } secret) own.Add(secret.Name);
        }
        IReadOnlyList<string> arrived = [];
        if (present is not null)
        {
            var removed = new List<string>();
            arrived = [.. present.Keys.Select(n => n.ToLowerInvariant())];
            foreach (var name in present.Keys)
            {
                if (own?.Contains(name) != true) removed.Add(name);
                requestHeaders.Remove(name);
            }
            if (removed.Count > 0) await ReportRemovedAsync(context, peer, client, front, removed);
        }

        context.Features.Set(new RequestIdentityFeature(address, front, front is null ? null : Only(headers, own!)) { ArrivedCertificateHeaders = arrived });
        await next(context);
    }

    /// <summary>
    /// Logs and audits removed headers. The first removal per source (peer, resolved client, front) and window is a
    /// Warning naming the headers and an audit event; repeats within the window are logged at Debug, still naming them.
    /// Past the global cap a new source is logged at Debug too, the first one the cap turns away in a window is a Warning,
    /// and the next event recorded says how many were left out.
    /// </summary>
    private async Task ReportRemovedAsync(HttpContext context, IPAddress peer, IPAddress client, TrustedFront? front, List<string> removed)
    {
        var list = string.Join(", ", removed.Select(n => n.ToLowerInvariant()).Order());
        // The front is part of the key: "not a front" and "front X passed on headers it does not send" are different
        // findings (forgery vs a balancer letting client headers through) and one must not silence the other. The client
        // is too: behind a trusted hop that is not a front, one client's forgeries must not hide another's.
        var admission = _forgeryAudit.Admit($"{peer}|{client}|{front?.Name}", time.GetUtcNow());
        if (admission.Verdict != AuditVerdict.Record)
        {
            ProxyLog.CertificateHeadersRemovedAgain(logger, peer.ToString(), front?.Name ?? "none", list);
            if (admission is { Verdict: AuditVerdict.OverCap, NotRecorded: 1 })
                ProxyLog.ForgeryAuditCapReached(logger, ForgeryAuditLimit, ForgeryAuditWindow.TotalSeconds);
            return;
        }
        if (front is null) ProxyLog.ForgedCertificateHeaders(logger, peer.ToString(), list);
        else ProxyLog.ForeignCertificateHeaders(logger, front.Name, front.Format.Id, list);
        var details = new Dictionary<string, string> { ["peer"] = peer.ToString() };
        var notRecorded = "";
        if (admission.NotRecorded > 0)
        {
            details["not_recorded"] = admission.NotRecorded.ToString(System.Globalization.CultureInfo.InvariantCulture);
            notRecorded = $" ({admission.NotRecorded} earlier events from other sources were not recorded: over {ForgeryAuditLimit} per "
                + $"{ForgeryAuditWindow.TotalSeconds:0} s)";
        }
        var reason = front is null
            ? $"client-certificate headers from {peer}, which is not a trusted front, were removed: {list}"
            : $"headers front '{front.Name}' does not send were removed: {list}";
        await audit.ForgedHeadersAsync(client, reason + notRecorded, details, context.RequestAborted);
    }

    private static ReceivedHeaders Only(ReceivedHeaders all, HashSet<string> names) =>
        new(names.ToDictionary(n => n, all.Get, StringComparer.OrdinalIgnoreCase));
}
