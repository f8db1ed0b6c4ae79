using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>
/// The stand-in's <c>pods/{name}/log</c>, as kubectl logs reads it: <c>text/plain</c>, one line per log entry. Without
/// <c>follow</c>, <see cref="LogLines"/> and the end of the response. With <c>follow=true</c> the same lines are flushed,
/// then, after a pause, <see cref="FollowedLogLine"/> — which only a client reading a streamed (chunked, unbuffered)
/// response sees while the response is still open — and the response stays open until the client goes, as a quiet
/// container's log does. Honours <c>container</c> (only <c>web</c>), <c>tailLines</c> and <c>timestamps</c>.
/// </summary>
internal sealed partial class KubeApiStandIn
{
    /// <summary>What the container "wrote" before the request.</summary>
    public static readonly IReadOnlyList<string> LogLines = ["web: starting", "web: listening on :8080", "web: GET / 200"];

    /// <summary>Written only to a follow, after <see cref="LogLines"/> and a pause.</summary>
    public const string FollowedLogLine = "web: GET /later 200";

    private const string LogContainer = "web";

    // Long enough that the earlier lines travel on their own first; no test waits for it, they wait for the output.
    private static readonly TimeSpan FollowPause = TimeSpan.FromMilliseconds(300);

    /// <summary>Serves GET /api/v1/namespaces/default/pods/{name}/log.</summary>
    private static async Task LogAsync(HttpContext context, string pod)
    {
        // 1. Refusals, worded as the API server words them.
        if (pod != ListedPod)
        {
            await WriteJsonAsync(context, Status(404, "NotFound", $"pods \"{pod}\" not found"), 404);
            return;
        }
        var query = context.Request.Query;
        if (query["container"] is [{ } container] && container != LogContainer)
        {
            await WriteJsonAsync(context, Status(400, "BadRequest", $"container {container} is not valid for pod {pod}"), 400);
            return;
        }
        var tail = LogLines.Count;
        if (query["tailLines"] is [{ } tailText] && (!int.TryParse(tailText, NumberStyles.None, CultureInfo.InvariantCulture, out tail) || tail < 0))
        {
            await WriteJsonAsync(context, Status(400, "BadRequest", $"stand-in: tailLines must be a non-negative integer, not {tailText}"), 400);
            return;
        }
        var timestamps = IsTrue(query["timestamps"]);

        // 2. The log so far, flushed so that a follow's client has it at once.
        context.Response.ContentType = "text/plain";
        var first = LogLines.Count - Math.Min(tail, LogLines.Count);
        for (var i = first; i < LogLines.Count; i++)
            await context.Response.WriteAsync(LogLine(LogLines[i], i, timestamps), context.RequestAborted);
        if (!IsTrue(query["follow"])) return;
        await context.Response.Body.FlushAsync(context.RequestAborted);

        // 3. A follow: one more line later, then nothing until the client hangs up.
        try
        {
            await Task.Delay(FollowPause, context.RequestAborted);
            await context.Response.WriteAsync(LogLine(FollowedLogLine, LogLines.Count, timestamps), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One line as the kubelet returns it; with timestamps, RFC 3339 (nanoseconds) and a space first.</summary>
    private static string LogLine(string text, int index, bool timestamps) => timestamps
        ? $"2026-01-01T00:00:{index:00}.000000000Z {text}\n"
        : text + "\n";
}
