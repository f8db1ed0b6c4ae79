namespace Gatehouse.Proxy.Kube;

/// <summary>
/// Refusals and errors as Kubernetes <c>Status</c> objects (meta/v1), so that kubectl prints them as its own:
/// "Error from server (Forbidden): role dev does not allow kubernetes cluster 'prod'".
/// </summary>
internal static class KubeStatus
{
    public const string Unauthorized = "Unauthorized", Forbidden = "Forbidden", NotFound = "NotFound",
        ServiceUnavailable = "ServiceUnavailable", Timeout = "Timeout";

    public static async Task WriteAsync(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.Headers.CacheControl = "no-store";
        if (context.Request.Headers.Accept.ToString().Contains("g=apidiscovery.k8s.io", StringComparison.Ordinal))
        {
            // kubectl's discovery client (its first requests, /api and /apis) finds no decoder for a Status and prints
            // "Error from server (Forbidden): unknown"; a plain-text body is what it prints as the message instead.
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(message + "\n", context.RequestAborted);
            return;
        }
        await context.Response.WriteAsJsonAsync(new StatusObject(message, reason, code), KubeJsonContext.Default.StatusObject, "application/json",
            context.RequestAborted);
    }

    internal sealed record StatusObject(string Message, string Reason, int Code)
    {
        public string Kind => "Status";
        public string ApiVersion => "v1";
        public Dictionary<string, string> Metadata { get; } = [];
        public string Status => "Failure";
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(KubeStatus.StatusObject))]
internal sealed partial class KubeJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
