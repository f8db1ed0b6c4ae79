using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>
/// A STAND-IN for a Kubernetes API server (no real one is installable here): Kestrel HTTPS on 127.0.0.1 with a
/// certificate from a test CA, just enough of the API for kubectl — discovery (<c>/version</c>, <c>/api</c>, <c>/apis</c>,
/// <c>/api/v1</c>), listing pods in <c>default</c> (one pod, <see cref="ListedPod"/>) and watching them (one ADDED event
/// for <see cref="WatchedPod"/>, then the stream stays open until the client goes), getting <see cref="ListedPod"/>,
/// exec/attach in it over WebSocket (KubeApiStandIn.Exec.cs) and its log, plain or followed (KubeApiStandIn.Logs.cs), and
/// service <c>web</c>'s proxy subresource (which sets cookies). Answers Tables when kubectl asks for them, as a real API
/// server does. Requires <c>Authorization: Bearer TOKEN</c> and records the impersonation headers of
/// every request it accepts. It does no RBAC and no impersonation checks of its own.
/// </summary>
internal sealed partial class KubeApiStandIn : IAsyncDisposable
{
    public const string ListedPod = "web-listed-1";
    public const string WatchedPod = "web-watched-2";
    public const string ServiceCookie = "web_app=from-a-pod; Path=/";

    private readonly WebApplication _app;

    private KubeApiStandIn(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"https://127.0.0.1:{Port}";

    /// <summary>Every accepted request: path, the Upgrade header (websocket for exec), the Impersonate-User /
    /// Impersonate-Group values as received, and the names of all headers that arrived.</summary>
    public ConcurrentQueue<SeenRequest> Seen { get; } = new();

    internal sealed record SeenRequest(string Path, string Query, string Upgrade, string[] ImpersonateUser, string[] ImpersonateGroup,
        string[] OtherImpersonate, string[] HeaderNames);

    /// <summary>Starts the stand-in. With <paramref name="clientCaFile"/>, callers authenticate with a client certificate
    /// issued by that CA instead of the bearer token (and must send no Authorization header at all).</summary>
    public static async Task<KubeApiStandIn> StartAsync(string certificateFile, string keyFile, string token, string? clientCaFile = null)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        // Re-imported so Kestrel gets a key it may use on every platform (an ephemeral PEM key is not always accepted).
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var clientCa = clientCaFile is null ? null : X509CertificateLoader.LoadCertificateFromFile(clientCaFile);
        // Like the API server (Go's 1 MB header limit), not Kestrel's 8 KiB request line.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestLineSize = 1 << 20);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(https =>
        {
            https.ServerCertificate = certificate;
            if (clientCa is null) return;
            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (presented, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(clientCa);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(presented);
            };
        })));
        var app = builder.Build();
        app.UseWebSockets();
        KubeApiStandIn? self = null;
        app.Use(async (context, next) =>
        {
            var authenticated = clientCa is null
                ? context.Request.Headers.Authorization.ToString() == $"Bearer {token}"
                : context.Connection.ClientCertificate is not null && context.Request.Headers.Authorization.Count == 0;
            if (!authenticated)
            {
                await WriteJsonAsync(context, Status(401, "Unauthorized", "stand-in: missing or wrong bearer token or client certificate"), 401);
                return;
            }
            var headers = context.Request.Headers;
            self!.Seen.Enqueue(new SeenRequest(context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", headers.Upgrade.ToString(),
                headers["Impersonate-User"].ToArray()!, headers["Impersonate-Group"].ToArray()!,
                [.. headers.Keys.Where(k => k.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase)
                    && !k.Equals("Impersonate-User", StringComparison.OrdinalIgnoreCase) && !k.Equals("Impersonate-Group", StringComparison.OrdinalIgnoreCase))],
                [.. headers.Keys]));
            await next(context);
        });
        app.MapGet("/version", () => Json(new { major = "1", minor = "32", gitVersion = "v1.32.0-gatehouse-stand-in", platform = "linux/amd64" }));
        app.MapGet("/api", () => Json(new
        {
            kind = "APIVersions", versions = new[] { "v1" },
            serverAddressByClientCIDRs = new[] { new { clientCIDR = "0.0.0.0/0", serverAddress = "127.0.0.1" } },
        }));
        app.MapGet("/apis", () => Json(new { kind = "APIGroupList", apiVersion = "v1", groups = Array.Empty<object>() }));
        app.MapGet("/api/v1", () => Json(new
        {
            kind = "APIResourceList", groupVersion = "v1",
            resources = new[]
            {
                new { name = "pods", singularName = "pod", namespaced = true, kind = "Pod", verbs = new[] { "get", "list", "watch" }, shortNames = new[] { "po" } },
                new { name = "pods/exec", singularName = "", namespaced = true, kind = "PodExecOptions", verbs = new[] { "create", "get" }, shortNames = Array.Empty<string>() },
                new { name = "pods/attach", singularName = "", namespaced = true, kind = "PodAttachOptions", verbs = new[] { "create", "get" }, shortNames = Array.Empty<string>() },
                new { name = "pods/log", singularName = "", namespaced = true, kind = "Pod", verbs = new[] { "get" }, shortNames = Array.Empty<string>() },
            },
        }));
        app.MapGet("/api/v1/namespaces/default/pods", async context =>
        {
            var table = context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);
            if (context.Request.Query["watch"] is ["true" or "1"])
            {
                // A watch: one event, flushed, then nothing until the client hangs up (as a quiet namespace would).
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(JsonSerializer.Serialize(new
                {
                    type = "ADDED",
                    @object = table ? TableOf(WatchedPod, "2") : Pod(WatchedPod, "2"),
                }) + "\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException) { }
                return;
            }
            await WriteJsonAsync(context, table
                ? TableOf(ListedPod, "1")
                : new { kind = "PodList", apiVersion = "v1", metadata = new { resourceVersion = "1" }, items = new[] { Pod(ListedPod, "1") } }, 200);
        });
        app.MapGet("/api/v1/namespaces/default/pods/{name}", (string name) => name == ListedPod
            ? Json(Pod(ListedPod, "1"))
            : Results.Text(JsonSerializer.Serialize(Status(404, "NotFound", $"pods \"{name}\" not found")), "application/json", statusCode: 404));
        // kubectl's WebSocket executor sends GET (an upgrade must be a GET); the SPDY one POSTs, and is told no.
        app.MapMethods("/api/v1/namespaces/default/pods/{name}/exec", ["GET", "POST"], (HttpContext context, string name) =>
            ExecOrAttachAsync(context, name, attach: false));
        app.MapMethods("/api/v1/namespaces/default/pods/{name}/attach", ["GET", "POST"], (HttpContext context, string name) =>
            ExecOrAttachAsync(context, name, attach: true));
        app.MapGet("/api/v1/namespaces/default/pods/{name}/log", (HttpContext context, string name) => LogAsync(context, name));
        // What a service behind the API server's proxy subresource may answer: a cookie of its own, and the proxy's session cookie.
        app.MapGet("/api/v1/namespaces/default/services/web/proxy/{**rest}", (HttpContext context) =>
        {
            context.Response.Headers.Append("Set-Cookie", ServiceCookie);
            context.Response.Headers.Append("Set-Cookie", "__Host-gatehouse-session=fixed-by-a-pod; Path=/; Secure; HttpOnly");
            return Json(new { service = "web" });
        });
        await app.StartAsync();
        self = new KubeApiStandIn(app, new Uri(app.Urls.First()).Port);
        return self;
    }

    private static object Pod(string name, string resourceVersion) => new
    {
        kind = "Pod", apiVersion = "v1",
        metadata = new { name, @namespace = "default", resourceVersion, uid = Guid.NewGuid().ToString(), creationTimestamp = "2026-01-01T00:00:00Z" },
        spec = new { containers = new[] { new { name = "web", image = "nginx" } } },
        status = new { phase = "Running" },
    };

    /// <summary>What kubectl asks for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io): rows to print.</summary>
    private static object TableOf(string name, string resourceVersion) => new
    {
        kind = "Table", apiVersion = "meta.k8s.io/v1",
        metadata = new { resourceVersion },
        columnDefinitions = new[]
        {
            new { name = "Name", type = "string", format = "name", description = "Name of the pod", priority = 0 },
            new { name = "Status", type = "string", format = "", description = "Phase", priority = 0 },
        },
        rows = new[]
        {
            new
            {
                cells = new object[] { name, "Running" },
                @object = new { kind = "PartialObjectMetadata", apiVersion = "meta.k8s.io/v1", metadata = new { name, @namespace = "default", resourceVersion } },
            },
        },
    };

    private static object Status(int code, string reason, string message) =>
        new { kind = "Status", apiVersion = "v1", metadata = new { }, status = "Failure", message, reason, code };

    private static IResult Json(object value) => Results.Text(JsonSerializer.Serialize(value), "application/json");

    private static async Task WriteJsonAsync(HttpContext context, object value, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(value), context.RequestAborted);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
