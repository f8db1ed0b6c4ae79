namespace Gatehouse.Client.LocalProxies;

/// <summary>What a local HTTP proxy serves: the HTTP apps and Kubernetes clusters behind the proxy, with their errors in the
/// form their clients print (plain text for curl and browsers, a Kubernetes Status for kubectl).</summary>
internal static class LocalTargets
{
    public static LocalTarget HttpApp(string app) => new($"/apps/{app}", $"app '{app}'", WritePlainAsync);

    public static LocalTarget KubeCluster(string cluster) => new($"/kube/{cluster}", $"Kubernetes cluster '{cluster}'", WriteKubeStatusAsync);

    private static Task WritePlainAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    /// <summary>kubectl prints a Status's message as "Error from server (ServiceUnavailable): …".</summary>
    private static Task WriteKubeStatusAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new Dictionary<string, string>(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = "ServiceUnavailable",
            ["code"] = status,
        }, context.RequestAborted);
    }
}
