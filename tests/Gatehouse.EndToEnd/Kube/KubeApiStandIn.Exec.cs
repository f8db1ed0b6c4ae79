using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>
/// The stand-in's <c>exec</c> and <c>attach</c> as a Kubernetes API server serves them to kubectl 1.30+ (KEP-4006): a GET
/// upgraded to a WebSocket whose sub-protocol is the remote-command channel protocol, <c>v5.channel.k8s.io</c> (or
/// <c>v4.channel.k8s.io</c>). Every binary message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 the final
/// metav1.Status, 4 terminal resize — and v5 adds 255 followed by a channel byte: "no more data on that channel" (kubectl
/// sends it when its stdin ends). The "container" runs one of a few commands: <c>echo WORDS</c>, <c>cat</c> (stdin back to
/// stdout until stdin is closed), <c>false</c> (exit code 1); <c>attach</c> behaves as <c>cat</c>. It speaks no SPDY.
/// </summary>
internal sealed partial class KubeApiStandIn
{
    public const string ChannelV5 = "v5.channel.k8s.io";
    public const string ChannelV4 = "v4.channel.k8s.io";

    private const byte Stdin = 0, Stdout = 1, Stderr = 2, ErrorChannel = 3, CloseChannel = 255;

    /// <summary>Serves /api/v1/namespaces/default/pods/{name}/exec and …/attach.</summary>
    private static async Task ExecOrAttachAsync(HttpContext context, string pod, bool attach)
    {
        // 1. Refusals while it is still plain HTTP: unknown pod, no WebSocket (SPDY or none), no channel protocol we speak.
        if (pod != ListedPod)
        {
            await WriteJsonAsync(context, Status(404, "NotFound", $"pods \"{pod}\" not found"), 404);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await WriteJsonAsync(context, Status(400, "BadRequest", "stand-in: exec and attach are served over WebSocket only (no SPDY)"), 400);
            return;
        }
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = offered.Contains(ChannelV5) ? ChannelV5 : offered.Contains(ChannelV4) ? ChannelV4 : null;
        if (protocol is null)
        {
            await WriteJsonAsync(context, Status(400, "BadRequest", $"stand-in: none of the offered sub-protocols is spoken here: {string.Join(", ", offered)}"), 400);
            return;
        }
        var query = context.Request.Query;
        var command = attach ? ["cat"] : query["command"].Select(c => c ?? "").ToArray();
        if (command.Length == 0 || !(IsTrue(query["stdin"]) || IsTrue(query["stdout"]) || IsTrue(query["stderr"])))
        {
            await WriteJsonAsync(context, Status(400, "BadRequest", "you must specify at least 1 of stdin, stdout, stderr, and a command"), 400);
            return;
        }

        // 2. The upgrade, then the "process".
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = protocol });
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(TimeSpan.FromMinutes(2)); // never hang a test run on a client that went quiet
        try
        {
            var exitCode = command[0] switch
            {
                "echo" => await EchoAsync(socket, command[1..], deadline.Token),
                "cat" => await CatAsync(socket, protocol == ChannelV5, deadline.Token),
                "false" => 1,
                _ => await NotFoundAsync(socket, command[0], deadline.Token),
            };
            // 3. The outcome on the error channel, as the kubelet reports it, then a normal close (kubectl's readers see EOF).
            if (exitCode >= 0) await SendAsync(socket, ErrorChannel, Encoding.UTF8.GetBytes(ExitStatus(exitCode)), deadline.Token);
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client went away mid-stream: nothing to report to anyone.
        }
    }

    private static async Task<int> EchoAsync(WebSocket socket, string[] words, CancellationToken cancellationToken)
    {
        await SendAsync(socket, Stdout, Encoding.UTF8.GetBytes(string.Join(' ', words) + "\n"), cancellationToken);
        return 0;
    }

    /// <summary>Stdin back to stdout until the client closes stdin (v5) or the whole socket (v4 has no close signal). -1:
    /// the client closed the socket, so there is no one to report an exit code to.</summary>
    private static async Task<int> CatAsync(WebSocket socket, bool v5, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            message.SetLength(0);
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close) return -1;
                message.Write(buffer, 0, result.Count);
            } while (!result.EndOfMessage);
            var bytes = message.GetBuffer().AsMemory(0, (int)message.Length);
            if (bytes.Length == 0) continue;
            if (bytes.Span[0] == Stdin && bytes.Length > 1) await SendAsync(socket, Stdout, bytes[1..], cancellationToken);
            else if (v5 && bytes.Span[0] == CloseChannel && bytes.Length > 1 && bytes.Span[1] == Stdin) return 0;
            // Anything else (resize on channel 4, an empty stdin message) changes nothing for cat.
        }
    }

    private static async Task<int> NotFoundAsync(WebSocket socket, string program, CancellationToken cancellationToken)
    {
        await SendAsync(socket, Stderr, Encoding.UTF8.GetBytes($"stand-in: {program}: command not found\n"), cancellationToken);
        return 127;
    }

    /// <summary>metav1.Status on channel 3: Success, or Failure / NonZeroExitCode with the code as an ExitCode cause.</summary>
    private static string ExitStatus(int exitCode) => exitCode == 0
        ? JsonSerializer.Serialize(new { metadata = new { }, status = "Success" })
        : JsonSerializer.Serialize(new
        {
            metadata = new { }, status = "Failure", message = $"command terminated with non-zero exit code: exit status {exitCode}",
            reason = "NonZeroExitCode",
            details = new { causes = new[] { new { reason = "ExitCode", message = exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) } } },
        });

    private static async Task SendAsync(WebSocket socket, byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var frame = new byte[data.Length + 1];
        frame[0] = channel;
        data.CopyTo(frame.AsMemory(1));
        await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) => value is ["true" or "1"];
}
