using System.Net;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Proxy.Routing;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// The first step of every request. A request that did not come from a trusted front (source network and secret)
/// loses every header that could carry a client certificate, in every format, before anything reads it; the attempt
/// is logged and audited. A request from a front keeps only that front's own headers, moved out of the request into
/// <see cref="RequestIdentityFeature"/> so that nothing downstream (apps included) ever sees them. A request inside a
/// tunnel never comes from a front, even when the tunnel was opened from a front's address.
/// </summary>
internal sealed class ClientCertificateHeaderGuard(RequestDelegate next, ForwardedCertificateAuthenticator authenticator, ClusterState cluster,
    Hosting.ProxyOptions options, ILogger<ClientCertificateHeaderGuard> logger)
{
    private readonly AuditThrottle _forgeryAudit = new(TimeSpan.FromSeconds(10));

    public async Task InvokeAsync(HttpContext context)
    {
        var peer = ClientAddress.Normalize(context.Connection.RemoteIpAddress ?? IPAddress.None);
        var headers = Snapshot(context.Request.Headers);
        TrustedFront? front = null;
        IPAddress client;
        if (context.Features.Get<TunnelledConnection>() is { } tunnel)
        {
            // Inside a tunnel there are no hops and no fronts, whatever address opened it: the client is who opened it.
            client = tunnel.Client;
        }
        else
        {
            front = authenticator.FrontFor(peer, headers);
            client = ClientAddress.Resolve(peer, context.Request.Headers["X-Forwarded-For"].Where(v => v is not null).ToList()!,
                options.IsTrustedHop, out var ignoredForwardedFor);
            if (ignoredForwardedFor) ProxyLog.IgnoredForwardedFor(logger, peer.ToString());
        }

        var own = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (front is not null)
        {
            own.UnionWith(front.Headers.Values);
            if (front.SharedSecret is { } secret) own.Add(secret.Name);
        }
        var removed = new List<string>();
        var arrived = new List<string>();
        foreach (var name in context.Request.Headers.Keys.ToList())
        {
            if (!authenticator.Options.CertificateHeaderNames.Contains(name)) continue;
            arrived.Add(name.ToLowerInvariant());
            if (!own.Contains(name)) removed.Add(name);
            context.Request.Headers.Remove(name);
        }
        if (removed.Count > 0)
        {
            var list = string.Join(", ", removed.Select(n => n.ToLowerInvariant()).Order());
            if (front is null) ProxyLog.ForgedCertificateHeaders(logger, peer.ToString(), list);
            else ProxyLog.ForeignCertificateHeaders(logger, front.Name, front.Format.Id, list);
            // The front is part of the key: "not a front" and "front X passed on headers it does not send" are different
            // findings (forgery vs a balancer letting client headers through) and one must not silence the other.
            if (_forgeryAudit.ShouldRecord($"{peer}|{front?.Name}|{list}", cluster.Time.GetUtcNow()))
                await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.ForgedClientCertificateHeader) with
                {
                    SourceIp = client.ToString(),
                    Decision = "denied",
                    Reason = front is null
                        ? $"client-certificate headers from {peer}, which is not a trusted front, were removed: {list}"
                        : $"headers front '{front.Name}' does not send were removed: {list}",
                    Details = new Dictionary<string, string> { ["peer"] = peer.ToString() },
                }, context.RequestAborted);
        }

        context.Features.Set(new RequestIdentityFeature(client, front, front is null ? null : Only(headers, own)) { ArrivedCertificateHeaders = arrived });
        await next(context);
    }


    private static ReceivedHeaders Snapshot(IHeaderDictionary headers) =>
        new(headers.ToDictionary(h => h.Key, h => (IReadOnlyList<string>)[.. h.Value.Where(v => v is not null)!], StringComparer.OrdinalIgnoreCase));

    private static ReceivedHeaders Only(ReceivedHeaders all, HashSet<string> names) =>
        new(names.ToDictionary(n => n, all.Get, StringComparer.OrdinalIgnoreCase));
}
