using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Gatehouse.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Tests;

/// <summary>
/// A target on a free loopback port (plain HTTP/1.1, as an ALB target group of protocol HTTP): every request is answered
/// with the headers it arrived with, as a JSON list of [name, value], and an <c>X-Target</c> header naming this target;
/// <c>/ws</c> echoes WebSocket messages; <c>/health</c> answers <see cref="HealthStatus"/>.
/// </summary>
internal sealed class EchoTarget : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoTarget(WebApplication app, string name, int port)
    {
        _app = app;
        Name = name;
        Port = port;
    }

    public string Name { get; }

    public int Port { get; }

    public int HealthStatus { get; set; } = 200;

    public static async Task<EchoTarget> StartAsync(string name)
    {
        var port = Peer.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var target = new EchoTarget(app, name, port);
        app.UseWebSockets();
        app.Run(async context =>
        {
            context.Response.Headers["X-Target"] = name;
            if (context.Request.Path == "/health")
            {
                context.Response.StatusCode = target.HealthStatus;
                return;
            }
            if (context.WebSockets.IsWebSocketRequest)
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[4096];
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                        return;
                    }
                    await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
                }
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(context.Request.Headers.SelectMany(h => h.Value.Select(v => new[] { h.Key, v ?? "" }))));
        });
        await app.StartAsync();
        return target;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
