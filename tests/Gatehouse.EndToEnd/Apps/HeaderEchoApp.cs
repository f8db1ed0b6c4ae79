using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.EndToEnd.Apps;

/// <summary>
/// The HTTP app behind the proxy: Kestrel on 127.0.0.1 (a free port, plain HTTP). Every request is answered with JSON
/// of what arrived (method, path, query, headers with lower-case names); <c>/ws</c> is a WebSocket that sends back every
/// message it receives; <c>/redirect?to=URL</c> answers 302 with <c>Location: URL</c>; a request with <c>?set_cookie=1</c>
/// also gets an app cookie of its own (<c>app_session=from-the-app</c>), one with <c>?set_proxy_cookie=1</c> the proxy's
/// session cookie as a misbehaving app would set it (<see cref="ProxyCookieValue"/>, as <c>__Host-gatehouse-session</c> and
/// <c>__Secure-Gatehouse-Session</c>).
/// </summary>
internal sealed class HeaderEchoApp : IAsyncDisposable
{
    public const string ProxyCookieValue = "fixed-by-the-app";

    private readonly WebApplication _app;

    private HeaderEchoApp(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public static async Task<HeaderEchoApp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
            }
        });
        app.Map("/redirect", context =>
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = context.Request.Query["to"].ToString();
            return Task.CompletedTask;
        });
        app.Use((context, next) =>
        {
            if (context.Request.Query.ContainsKey("set_cookie")) context.Response.Headers.Append("Set-Cookie", "app_session=from-the-app; Path=/");
            if (context.Request.Query.ContainsKey("set_proxy_cookie"))
            {
                context.Response.Headers.Append("Set-Cookie", $"__Host-gatehouse-session={ProxyCookieValue}; Path=/; Secure; HttpOnly");
                context.Response.Headers.Append("Set-Cookie", $"__Secure-Gatehouse-Session={ProxyCookieValue}; Path=/; Secure");
            }
            return next(context);
        });
        app.Map("{**rest}", context => context.Response.WriteAsJsonAsync(new
        {
            method = context.Request.Method,
            path = context.Request.Path.Value,
            query = context.Request.QueryString.Value,
            headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
        }));
        await app.StartAsync();
        var address = app.Urls.First();
        return new HeaderEchoApp(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
