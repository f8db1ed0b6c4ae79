using System.Text.Json.Serialization;
using Gatehouse.Cluster;

namespace Gatehouse.Proxy.Web;

/// <summary>
/// GET /healthz on both listeners, for balancer health checks (issue 7): 200 when the store answers a cheap revision
/// query within <see cref="StoreTimeout"/>, else 503 with the reason, so the balancer takes this proxy out of rotation
/// while its database is unreachable. No authentication: balancers check without a client certificate — so the
/// answer names no store location and no error text (those go to the log at Warning).
/// A CA whose revocation information is failing or stale adds a <c>revocation</c> detail (counts only; the log and
/// <c>gatehouse_revocation_source_ok</c> name the CA): the proxy still serves, refusing what it cannot vouch for, so the
/// status stays 200 (issue 16).
/// </summary>
internal static class HealthEndpoint
{
    public const string Path = "/healthz";
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(2);

    public static void Map(WebApplication app, ClusterState cluster) =>
        app.MapGet(Path, async (HttpContext context) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(StoreTimeout);
            string reason;
            try
            {
                await cluster.Store.GetRevisionAsync(timeout.Token);
                return Results.Json(new Health("ok") { Revocation = RevocationDetail(cluster) }, HealthJson.Default.Health);
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                reason = $"the store did not answer within {StoreTimeout.TotalSeconds:0}s";
                ProxyLog.HealthCheckFailed(Log(context), cluster.Store.Description, reason);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                reason = $"the store failed ({e.GetType().Name})";
                ProxyLog.HealthCheckFailed(Log(context), cluster.Store.Description, e.Message);
            }
            return Results.Json(new Health("unavailable", reason), HealthJson.Default.Health, statusCode: StatusCodes.Status503ServiceUnavailable);
        });

    private static string? RevocationDetail(ClusterState cluster)
    {
        var now = cluster.Time.GetUtcNow();
        var views = cluster.Trust.RevocationByIssuer.Values;
        var failing = views.Count(v => !v.IsHealthy(now));
        return failing == 0 ? null
            : $"{failing} of {views.Length} CA(s) with a revocation policy have missing, failing or stale revocation information; see the log";
    }

    private static ILogger Log(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Gatehouse.Proxy.Health");
}

internal sealed record Health(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null)
{
    [JsonPropertyName("revocation"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Revocation { get; init; }
}

[JsonSerializable(typeof(Health))]
internal sealed partial class HealthJson : JsonSerializerContext;
