using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>
/// Opens the outer half of a tunnel through a layer-7 balancer (ARCHITECTURE §4): a WebSocket on /v1/tunnel carrying
/// binary frames, or the raw HTTP/1.1 upgrade. The stream returned carries the inner TLS, which the dialer runs next
/// exactly as it would over TCP. Failures are sentences naming the HTTP status and what the balancer said.
/// </summary>
internal static class TunnelOpener
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    public static Task<(Stream? Stream, string? Error)> OpenAsync(DialerOptions options, TunnelKind kind, bool ping, CancellationToken cancellationToken) =>
        kind == TunnelKind.Raw ? OpenRawAsync(options, cancellationToken) : OpenWebSocketAsync(options, ping, cancellationToken);

    /// <param name="ping">Ask for <c>gatehouse-tls-ping</c>: WebSocket pings at the ping interval keep idle balancers open.</param>
    public static async Task<(Stream? Stream, string? Error)> OpenWebSocketAsync(DialerOptions options, bool ping, CancellationToken cancellationToken)
    {
        var subProtocol = ping ? ProxyProtocol.WebSocketPingProtocol : ProxyProtocol.WebSocketProtocol;
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(subProtocol);
        socket.Options.KeepAliveInterval = ping ? options.EffectivePingInterval : TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        // The TLS is ours (OuterConnection, as for /v1/ping and the raw upgrade): ClientWebSocket's own options can only
        // offer a certificate collection, which cannot say whether the balancer asked; hence ws:// over a finished SslStream.
        using var handler = new SocketsHttpHandler { ConnectCallback = async (_, token) => await OuterConnection.ConnectTlsAsync(options, token) };
        using var invoker = new HttpMessageInvoker(handler);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveConnectTimeout);
        try
        {
            await socket.ConnectAsync(new Uri($"ws://{options.Proxy}{ProxyProtocol.TunnelPath}"), invoker, timeout.Token);
        }
        catch (WebSocketException e) when (socket.HttpStatusCode is not 0 and not HttpStatusCode.SwitchingProtocols)
        {
            socket.Dispose();
            if (MissingCertificate(options, (int)socket.HttpStatusCode) is { } missing) return (null, $"the WebSocket tunnel to {options.Proxy} failed: " + missing);
            return (null, await ExplainWebSocketRefusalAsync(options, subProtocol, (int)socket.HttpStatusCode, e, cancellationToken));
        }
        catch (WebSocketException e) when (socket.HttpStatusCode == HttpStatusCode.SwitchingProtocols)
        {
            // ClientWebSocket refuses a 101 whose sub-protocol it did not ask for (RFC 6455 §4.1) before we can look.
            socket.Dispose();
            return (null, $"{options.Proxy} accepted a WebSocket on {ProxyProtocol.TunnelPath} but not with sub-protocol '{subProtocol}' " +
                          $"({e.Message.TrimEnd('.')}): it is not a Gatehouse tunnel endpoint.");
        }
        catch (Exception e) when (e is WebSocketException or IOException or HttpRequestException or OperationCanceledException
                                  && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, $"the WebSocket tunnel to {options.Proxy} failed: " + OuterConnection.ExplainOuter(e, options, "outer"));
        }
        if (socket.SubProtocol != subProtocol)
        {
            socket.Abort();
            socket.Dispose();
            return (null, $"{options.Proxy} accepted a WebSocket on {ProxyProtocol.TunnelPath} but with sub-protocol " +
                          $"'{socket.SubProtocol ?? "(none)"}' instead of '{subProtocol}': it is not a Gatehouse tunnel endpoint, or a balancer " +
                          "dropped Sec-WebSocket-Protocol.");
        }
        var stream = WebSocketStream.Create(socket, WebSocketMessageType.Binary, CloseTimeout);
        if (options.Warn is not { } warn) return (stream, null);
        var interval = options.EffectivePingInterval;
        return (new IdleCutWatch(stream, socket, interval, TimeProvider.System, idle => warn(IdleCutWarning(options, idle, interval))), null);
    }

    /// <summary>What the client says when a balancer's idle timeout cut its tunnel (<see cref="IdleCutWatch"/>).</summary>
    public static string IdleCutWarning(DialerOptions options, TimeSpan idle, TimeSpan interval) =>
        $"the tunnel to {options.Proxy} was cut with no WebSocket close after {idle.TotalSeconds:0.#} s idle, before the next ping was due " +
        $"(every {interval.TotalSeconds:0.#} s): a balancer in between most likely closes idle connections sooner. Set {TunnelSetting.PingVariable} " +
        "below its idle timeout (e.g. 20s), or raise that timeout (nginx proxy_read_timeout, HAProxy timeout tunnel, ALB " +
        "idle_timeout.timeout_seconds); the proxy's own pings are proxy.ping_interval.";

    /// <summary>
    /// The raw upgrade: 1. outer TLS; 2. <c>GET /v1/tunnel</c> with <c>Upgrade: gatehouse-tls</c> (and the same token in
    /// X-Gatehouse-Upgrade, for balancers that drop Upgrade); 3. a 101 naming the token in either header; 4. the socket
    /// stream, with any bytes that came after the head put back in front.
    /// </summary>
    public static async Task<(Stream? Stream, string? Error)> OpenRawAsync(DialerOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveConnectTimeout);
        Stream? outer = null;
        try
        {
            outer = await OuterConnection.ConnectTlsAsync(options, timeout.Token);
            await outer.WriteAsync(RawRequest(options.Proxy), timeout.Token);
            await outer.FlushAsync(timeout.Token);
            var (response, error) = await UpgradeResponseReader.ReadAsync(outer, timeout.Token);
            var verdict = MissingCertificate(options, response?.Status) is { } missing ? "the raw-upgrade tunnel failed: " + missing
                : response is null ? $"the raw upgrade on {options.Proxy}{ProxyProtocol.TunnelPath} failed: {error}" : CheckRaw(response);
            if (verdict is not null)
            {
                await outer.DisposeAsync();
                return (null, verdict);
            }
            var stream = response!.Leftover.IsEmpty ? outer : new PrefixedStream(outer, response.Leftover.ToArray(), response.Leftover.Length);
            outer = null;
            return (stream, null);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                                  or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (outer is not null) await outer.DisposeAsync();
            return (null, "the raw-upgrade tunnel failed: " + OuterConnection.ExplainOuter(e, options, "outer"));
        }
    }

    /// <summary>The missing-client-certificate sentence when a front asked for one, there was none, and the answer was a
    /// refusal status or none at all (<paramref name="status"/> null: closed without an answer).</summary>
    private static string? MissingCertificate(DialerOptions options, int? status) =>
        status is null || OuterCertificate.IsCertificateRefusalStatus(status.Value) ? options.Outer.MissingCertificateExplanation(options.Proxy.ToString()) : null;

    public static byte[] RawRequest(ProxyAddress proxy) => Encoding.ASCII.GetBytes(
        $"GET {ProxyProtocol.TunnelPath} HTTP/1.1\r\nHost: {proxy}\r\nConnection: Upgrade\r\nUpgrade: {ProxyProtocol.RawUpgrade}\r\n" +
        $"{ProxyProtocol.UpgradeHeader}: {ProxyProtocol.RawUpgrade}\r\nUser-Agent: gatehouse/{Version}\r\n\r\n");

    /// <summary>Null when the answer is the raw upgrade accepted; else why not.</summary>
    public static string? CheckRaw(UpgradeResponse response)
    {
        if (response.Status != 101) return Refusal(response, "raw (Upgrade: gatehouse-tls)");
        return response.HasToken("Upgrade", ProxyProtocol.RawUpgrade) || response.HasToken(ProxyProtocol.UpgradeHeader, ProxyProtocol.RawUpgrade)
            ? null
            : $"the answer switched protocols but named neither Upgrade: {ProxyProtocol.RawUpgrade} nor {ProxyProtocol.UpgradeHeader}: " +
              $"{ProxyProtocol.RawUpgrade} (Upgrade: '{response.Header("Upgrade") ?? "(none)"}'); something other than Gatehouse answered.";
    }

    public static string Refusal(UpgradeResponse response, string kind) =>
        $"the balancer answered {response.StatusLine}: it does not pass {kind} upgrades on {ProxyProtocol.TunnelPath}" +
        (response.Body.Length > 0 ? $" (body: {response.Body})" : "");

    /// <summary>ClientWebSocket keeps the status and headers of a refused upgrade but not the body, which is where a
    /// balancer says why; so the same request is sent once more by hand to read it.</summary>
    private static async Task<string> ExplainWebSocketRefusalAsync(DialerOptions options, string subProtocol, int status, WebSocketException e,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveConnectTimeout);
        try
        {
            await using var outer = await OuterConnection.ConnectTlsAsync(options, timeout.Token);
            var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
            await outer.WriteAsync(Encoding.ASCII.GetBytes(
                $"GET {ProxyProtocol.TunnelPath} HTTP/1.1\r\nHost: {options.Proxy}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
                $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {subProtocol}\r\n\r\n"), timeout.Token);
            await outer.FlushAsync(timeout.Token);
            if (await UpgradeResponseReader.ReadAsync(outer, timeout.Token) is ({ Status: not 101 } response, _))
                return Refusal(response, "WebSocket");
        }
        catch (Exception again) when (again is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                                      or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Report what the first attempt saw.
        }
        return $"the balancer answered {status} {ReasonPhrase(status)}: it does not pass WebSocket upgrades on {ProxyProtocol.TunnelPath} ({e.Message.TrimEnd('.')})";
    }

    private static string ReasonPhrase(int status)
    {
        using var message = new HttpResponseMessage((HttpStatusCode)status);
        return message.ReasonPhrase ?? "";
    }

    private static readonly string Version =
        typeof(TunnelOpener).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0";
}
