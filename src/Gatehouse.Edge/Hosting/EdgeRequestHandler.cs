using System.Diagnostics;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Headers;
using Gatehouse.Edge.Logging;
using Gatehouse.Edge.Targets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// Every request the edge receives: (1) strip client-sent mTLS headers, (2) pick the target group by the listener's rules,
/// (3) add the connection's mTLS headers, X-Forwarded-* and the trace id, (4) forward to the next target in turn over
/// HTTP/1.1 (upgrades included), (5) answer ALB's own error pages when there is no rule, no target or no answer, and
/// (6) write the access-log line.
/// </summary>
internal sealed class EdgeRequestHandler(EdgeOptions options, IReadOnlyDictionary<string, TargetGroup> groups, IHttpForwarder forwarder,
    LogSink? accessLog, ILogger logger, TimeProvider time)
{
    private static readonly ForwarderRequestConfig BaseConfig = new()
    {
        Version = System.Net.HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    private readonly ForwarderRequestConfig _config = BaseConfig with { ActivityTimeout = options.IdleTimeout };

    public async Task InvokeAsync(HttpContext context)
    {
        var connection = context.Features.Get<EdgeConnection>();
        if (connection is null)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError; // not a listener of ours: cannot happen
            return;
        }
        var created = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var request = context.Request;
        var listener = connection.Listener;

        // 1. Copies of the mTLS headers from the client are never passed on, whatever the mode.
        var forged = ForwardedHeaders.Strip(request.Headers, listener.StrippedHeaders);
        if (forged > 0) EdgeLog.ForgedHeadersRemoved(logger, listener.Name, forged, connection.Client.ToString());

        // 2. The rules, in order.
        var (groupName, priority) = listener.Rules.Match(request.Host.Value ?? "", request.Path.Value is { Length: > 0 } path ? path : "/");
        var traceId = ForwardedHeaders.UpdateTraceId(request.Headers, created);
        TargetGroup? group = groupName is null ? null : groups[groupName];
        var target = group?.Next();
        string action = "forward", error = "-";
        if (group is null || target is null)
        {
            action = "fixed-response";
            await ErrorPageAsync(context, group is null ? StatusCodes.Status404NotFound : StatusCodes.Status503ServiceUnavailable);
        }
        else
        {
            // 3. What the edge vouches for.
            ForwardedHeaders.AddMtls(request.Headers, listener.Options.HeaderNames, connection.MtlsHeaders);
            ForwardedHeaders.AddForwarded(request.Headers, options.Xff, options.XffClientPort, connection.Client.Address, connection.Client.Port,
                connection.Local.Port);

            // 4. Forward (YARP copies the headers but the hop-by-hop ones, keeps Host — the empty transform adds no X-Forwarded-* of its own — and carries upgrades across).
            var result = await forwarder.SendAsync(context, target.Prefix, group.Invoker, _config, HttpTransformer.Empty);
            if (result != ForwarderError.None)
            {
                error = result.ToString();
                var failure = context.Features.Get<IForwarderErrorFeature>()?.Exception?.Message ?? result.ToString();
                EdgeLog.ForwardFailed(logger, group.Name, target.ToString(), failure);
                // 5. YARP set 502 (or 504 on a timeout) when nothing was sent yet; the body is ALB's page.
                if (!context.Response.HasStarted) await ErrorPageAsync(context, context.Response.StatusCode is >= 500 ? context.Response.StatusCode : 502);
            }
        }

        // 6. The access log.
        if (accessLog is null) return;
        var upgraded = context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true || request.Protocol == "HTTP/2" && request.Method == "CONNECT";
        var type = upgraded ? "wss" : request.Protocol == "HTTP/2" ? "h2" : "https";
        var status = context.Response.StatusCode;
        accessLog.Write(LogLines.Access(new RequestFacts(type, time.GetUtcNow(), listener.Elb, connection.Client.Address, connection.Client.Port,
            action == "forward" ? target!.ToString() : null, Stopwatch.GetElapsedTime(started), status, action == "forward" && error == "-" ? status : null,
            request.ContentLength ?? 0, context.Response.ContentLength ?? 0,
            $"{request.Method} https://{request.Host}{request.PathBase}{request.Path}{request.QueryString} {request.Protocol}",
            request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null, connection.Cipher, connection.Protocol, groupName, traceId,
            connection.ServerName, priority, created, action, error == "-" ? null : error, connection.ConnTraceId)));
    }

    /// <summary>The page an ALB answers by itself (its own status, <c>Server: awselb/2.0</c>, a small HTML body).</summary>
    private static Task ErrorPageAsync(HttpContext context, int status)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.Server = "awselb/2.0";
        response.ContentType = "text/html";
        var reason = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        return response.WriteAsync($"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n");
    }
}
