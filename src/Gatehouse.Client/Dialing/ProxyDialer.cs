using System.Net.Security;
using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>
/// Connects a command to a service behind the proxy: picks direct or tunnel (<see cref="TunnelDetector"/>), runs the
/// inner TLS (ALPN = the service, the profile's certificate, the host CA, name gatehouse.internal) over TCP or the
/// tunnel, sends the dial frame and reads the answer. The stream returned carries the service's bytes; every expected
/// failure is a sentence in the <see cref="DialResult"/>.
/// </summary>
internal sealed class ProxyDialer(DialerOptions options, TimeProvider? time = null) : IAsyncDisposable
{
    private readonly TunnelDetector _detector = new(options, time);
    private readonly TunnelPool? _pool = options.Pool is { } pool
        ? new TunnelPool(pool, (key, token) => TunnelOpener.OpenAsync(options, key.Kind, key.Ping, token), time)
        : null;
    private TunnelDecision? _decision;

    /// <summary>The tunnels kept ready, when <see cref="DialerOptions.Pool"/> asks for them.</summary>
    public TunnelPool? Pool => _pool;

    public DialerOptions Options => options;

    /// <summary>The decision the last dial used (null before the first).</summary>
    public TunnelDecision? Decision => _decision;

    /// <summary>Direct or tunnel for this proxy, decided once per dialer (a command may call it up front to show the route).</summary>
    public async Task<(TunnelDecision? Decision, string? Error)> DecideAsync(CancellationToken cancellationToken)
    {
        if (_decision is { } known) return (known, null);
        var (decision, error) = await _detector.DecideAsync(refresh: false, cancellationToken);
        _decision ??= decision;
        return (_decision, error);
    }

    public async Task<DialResult> DialAsync(DialTarget target, CancellationToken cancellationToken)
    {
        // 1. Direct or tunnel: environment, then the cached decision, then detection.
        var (decided, error) = await DecideAsync(cancellationToken);
        if (decided is null) return DialResult.Failed(DialRoute.Direct, error!);
        var result = await DialOnceAsync(target, decided.Tunnel, cancellationToken);
        // A refusal by the proxy (it has a code) is an answer, not a route problem: it is never retried.
        if (result.Ok || result.Code is not null || cancellationToken.IsCancellationRequested) return result;
        // 2. A transport failure on a remembered decision may mean the network changed (a balancer appeared or went):
        //    detect again and retry once.
        if (decided.Source == TunnelDecision.FromCache)
        {
            TunnelCache.Forget(options.ProfileDirectory);
            var (fresh, _) = await _detector.DecideAsync(refresh: true, cancellationToken);
            if (fresh is not null)
            {
                _decision = fresh;
                return await DialOnceAsync(target, fresh.Tunnel, cancellationToken);
            }
            return result;
        }
        // 3. Otherwise once more on the same route: behind a balancer with several proxies (deployment e), a proxy that
        //    just died may still be in its rotation (refused, reset, a 502), and the next connection reaches another.
        var again = await DialOnceAsync(target, decided.Tunnel, cancellationToken);
        return again.Ok || again.Code is not null ? again : result;
    }

    /// <summary>One attempt on a fixed route.</summary>
    public async Task<DialResult> DialOnceAsync(DialTarget target, bool tunnel, CancellationToken cancellationToken)
    {
        var ping = target.Ping ?? tunnel;
        var (transport, route, error, pooled) = await ConnectCoreAsync(tunnel, ping, usePool: true, cancellationToken);
        if (transport is null) return DialResult.Failed(route, error!);
        var result = await DialOverAsync(transport, target, ping, route, cancellationToken);
        if (!pooled) return result;
        if (result.Ok || result.Code is not null || cancellationToken.IsCancellationRequested) return result with { Pooled = true };
        // A ready tunnel that failed before the proxy answered had died unseen (a balancer cut it as the dial came): the
        // user must not see that, so once more on a fresh one.
        (transport, route, error, _) = await ConnectCoreAsync(tunnel, ping, usePool: false, cancellationToken);
        return transport is null ? DialResult.Failed(route, error!) : await DialOverAsync(transport, target, ping, route, cancellationToken);
    }

    /// <summary>
    /// The outer half only: a TCP connection to the proxy's TLS port, or a tunnel through the balancer — the stream on
    /// which the caller runs its own inner TLS (for a gatehouse-* service, <see cref="DialOverAsync"/>; for the proxy's
    /// web side, an HTTPS client). <paramref name="ping"/> asks a WebSocket tunnel for keep-alive pings.
    /// </summary>
    public async Task<(Stream? Transport, DialRoute Route, string? Error)> ConnectAsync(bool tunnel, bool ping, CancellationToken cancellationToken)
    {
        var (transport, route, error, _) = await ConnectCoreAsync(tunnel, ping, usePool: true, cancellationToken);
        return (transport, route, error);
    }

    /// <summary><see cref="ConnectAsync"/>, saying whether the tunnel came from the pool.</summary>
    private async Task<(Stream? Transport, DialRoute Route, string? Error, bool Pooled)> ConnectCoreAsync(bool tunnel, bool ping, bool usePool,
        CancellationToken cancellationToken)
    {
        var kind = options.TunnelKind ?? TunnelKind.WebSocket;
        var route = !tunnel ? DialRoute.Direct : kind == TunnelKind.Raw ? DialRoute.RawUpgrade : DialRoute.WebSocket;
        if (tunnel && usePool && _pool is not null)
        {
            var (stream, pooled, error) = await _pool.TakeAsync(TunnelPoolKey.For(options, kind, ping), cancellationToken);
            return (stream, route, error, pooled);
        }
        if (tunnel)
        {
            var (stream, error) = await TunnelOpener.OpenAsync(options, kind, ping, cancellationToken);
            return (stream, route, error, false);
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.EffectiveConnectTimeout);
            return (await OuterConnection.ConnectTcpAsync(options.Proxy, timeout.Token), route, null, false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, route, OuterConnection.Explain(e, options.Proxy, "direct"), false);
        }
    }

    /// <summary>
    /// The part shared by every route: 1. inner TLS offering exactly one ALPN; 2. the negotiated protocol checked (a
    /// proxy that did not route on it answered as a web server); 3. the dial frame and its answer; 4. ping framing
    /// from here on for <c>-ping</c>. Owns <paramref name="transport"/>: disposed on failure.
    /// </summary>
    public async Task<DialResult> DialOverAsync(Stream transport, DialTarget target, bool ping, DialRoute route, CancellationToken cancellationToken)
    {
        var alpn = target.Service + (ping ? AlpnProtocols.PingSuffix : "");
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveConnectTimeout);
        try
        {
            if (options.HostCa is null)
            {
                await tls.DisposeAsync();
                return DialResult.Failed(route, $"no host CA is pinned for {options.Proxy}, so its certificate cannot be checked. Log in again with " +
                                                $"`gatehouse login --proxy {options.Proxy} --ca host-ca.pem` (an administrator exports it with " +
                                                "`gatehouse admin ca export --kind host`), or with --insecure to be shown its fingerprint; or pass --ca FILE.");
            }
            await tls.AuthenticateAsClientAsync(DialTrust.InnerOptions(options, alpn), timeout.Token);
            var negotiated = tls.NegotiatedApplicationProtocol.Protocol.IsEmpty ? null : tls.NegotiatedApplicationProtocol.ToString();
            if (negotiated != alpn)
            {
                await tls.DisposeAsync();
                return DialResult.Failed(route, $"{options.Proxy} did not take ALPN {alpn} (it negotiated '{negotiated ?? "none"}'): a balancer in front " +
                                                $"strips ALPN or terminates TLS; set {TunnelSetting.Variable}=always to tunnel.");
            }
            await DialFrames.WriteAsync(tls, target.Request, timeout.Token);
            var (answer, error) = await DialFrames.ReadAnswerAsync(tls, timeout.Token);
            if (answer is null)
            {
                await tls.DisposeAsync();
                return DialResult.Failed(route, $"{options.Proxy} closed the connection instead of answering the dial ({error}); if your " +
                                                "certificate expired, log in again.");
            }
            if (!answer.Ok)
            {
                await tls.DisposeAsync();
                return DialResult.Failed(route, Refusal(target, answer), answer.Code ?? "refused");
            }
            Stream connected = ping ? new PingFramedStream(tls, options.EffectivePingInterval, time) : tls;
            return DialResult.Connected(connected, route);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException
                                  or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            await tls.DisposeAsync();
            return DialResult.Failed(route, OuterConnection.Explain(e, options.Proxy, "inner"));
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>The proxy's refusal as a sentence that says what to do.</summary>
    public static string Refusal(DialTarget target, DialAnswer answer)
    {
        var said = answer.Error is { Length: > 0 } e ? e : "no reason given";
        return answer.Code switch
        {
            DialCodes.Denied => $"access to {target.Target} denied: {said}. Ask an administrator for a role that allows it.",
            DialCodes.NotFound => $"{target.Target} is not registered with the proxy: {said}. Check the name.",
            DialCodes.Unreachable => $"the proxy cannot reach {target.Target}: {said}.",
            DialCodes.Unauthenticated => $"the proxy did not accept your certificate: {said}. Log in again.",
            DialCodes.BadRequest => $"the proxy did not understand the request for {target.Target}: {said} (client and proxy versions may differ).",
            _ => $"the proxy refused {target.Target}: {said}{(answer.Code is { } c ? $" ({c})" : "")}.",
        };
    }

    public ValueTask DisposeAsync() => _pool?.DisposeAsync() ?? ValueTask.CompletedTask;
}
