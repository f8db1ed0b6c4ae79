using System.Net;
using System.Text.Json.Serialization;
using Gatehouse.Access;

namespace Gatehouse.Proxy.Web;

/// <summary>
/// GET /v1/databases (<c>gatehouse ls dbs</c>, <c>gatehouse db config</c>): the databases the caller may reach (db_labels),
/// the db users and names their roles allow, and the TLS server name plain psql gives to reach each one on the one port
/// (NAME.db.&lt;the proxy's first public DNS name&gt;). Databases the caller may not reach are not named.
/// </summary>
internal static class DatabaseEndpoints
{
    public static void Map(WebApplication app, ProxyOptions options, RoleCatalog roles)
    {
        var publicName = options.PublicAddresses.FirstOrDefault(a => !IPAddress.TryParse(a, out _)) ?? "localhost";
        app.MapGet("/v1/databases", async (HttpContext context) =>
        {
            var (caller, refusal) = await SshEndpoints.CallerOrRefusalAsync(context);
            if (caller is null) return refusal!;
            var checker = await roles.CheckerForAsync(caller.Identity, context.RequestAborted);
            var databases = options.Databases.OrderBy(d => d.Name, StringComparer.Ordinal)
                .Where(d => checker.CheckDatabaseLabels(d.Name, d.Labels).Allowed)
                .Select(d => new DatabaseEntry(d.Name, d.Protocol, d.Labels, checker.DbUsers, checker.DbNames, $"{d.Name}.db.{publicName}"))
                .ToList();
            return Results.Json(new DatabaseList(databases), DatabasesJson.Default.DatabaseList);
        });
    }
}

/// <param name="DbUsers">The db users the caller's roles allow (<c>*</c>: any), before any deny of a particular database.</param>
internal sealed record DatabaseEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("protocol")] string Protocol,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("db_users")] IReadOnlyList<string> DbUsers,
    [property: JsonPropertyName("db_names")] IReadOnlyList<string> DbNames,
    [property: JsonPropertyName("server_name")] string ServerName);

internal sealed record DatabaseList([property: JsonPropertyName("databases")] IReadOnlyList<DatabaseEntry> Databases);

[JsonSerializable(typeof(DatabaseList))]
internal sealed partial class DatabasesJson : JsonSerializerContext;
