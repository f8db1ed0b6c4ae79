using System.Text.Json.Serialization;
using Gatehouse.Access;
using Gatehouse.Proxy.Authentication;

namespace Gatehouse.Proxy.Web;

/// <summary>
/// The SSH side of the web API. GET /v1/nodes (<c>gatehouse ls nodes</c>): the SSH nodes the caller may reach and, for
/// each, the logins of their certificate that the roles allow there; nodes the caller may not reach are not named.
/// GET /v1/ssh/known_hosts: the cluster's SSH host CA as an <c>@cert-authority</c> line (public; the client fetches it
/// over the inner TLS it checks against the host CA).
/// </summary>
internal static class SshEndpoints
{
    public static void Map(WebApplication app, ProxyOptions options, RoleCatalog roles, string knownHostsLine)
    {
        app.MapGet("/v1/ssh/known_hosts", () => Results.Text(knownHostsLine + "\n", "text/plain; charset=utf-8"));
        app.MapGet("/v1/nodes", async (HttpContext context) =>
        {
            var (caller, refusal) = await CallerOrRefusalAsync(context);
            if (caller is null) return refusal!;
            var checker = await roles.CheckerForAsync(caller.Identity, context.RequestAborted);
            var nodes = new List<NodeEntry>();
            foreach (var node in options.SshNodes.OrderBy(n => n.Name, StringComparer.Ordinal))
            {
                var logins = caller.Identity.Logins.Where(login => checker.CheckNode(node.Name, node.Labels, login).Allowed).ToList();
                if (logins.Count > 0) nodes.Add(new NodeEntry(node.Name, node.Labels, logins));
            }
            return Results.Json(new NodeList(nodes), NodesJson.Default.NodeList);
        });
    }

    /// <summary>The caller of a listing endpoint, or the 401 answer that says why there is none.</summary>
    internal static async Task<(Caller? Caller, IResult? Refusal)> CallerOrRefusalAsync(HttpContext context)
    {
        var (caller, verdict) = await ClientCertificateAuthenticationHandler.AuthenticateAsync(context);
        return caller is not null ? (caller, null)
            : (null, Results.Json(new { error = ClientCertificateAuthenticationHandler.Refusal(verdict,
                "no client certificate: log in (`gatehouse login`) and ask again, or present your Gatehouse certificate") },
                statusCode: StatusCodes.Status401Unauthorized));
    }
}

internal sealed record NodeEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("logins")] IReadOnlyList<string> Logins);

internal sealed record NodeList([property: JsonPropertyName("nodes")] IReadOnlyList<NodeEntry> Nodes);

[JsonSerializable(typeof(NodeList))]
internal sealed partial class NodesJson : JsonSerializerContext;
