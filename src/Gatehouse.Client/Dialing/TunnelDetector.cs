using System.Net;
using System.Net.Security;
using System.Text.Json;
using Gatehouse.Routing;

namespace Gatehouse.Client.Dialing;

/// <summary>What /v1/ping gave: the echo of what the proxy saw, whether HTTPS to the address works at all, and what we sent.</summary>
internal sealed record PingOutcome(PingEcho? Echo, bool HttpsWorked, string? SentSni, string SentAlpn, string? Error);

/// <summary>What the <c>gatehouse-tunnel</c> probe handshake negotiated, or why it failed.</summary>
internal sealed record ProbeOutcome(string? NegotiatedAlpn, string? Error)
{
    public bool ReachedGatehouse => NegotiatedAlpn == AlpnProtocols.Tunnel;
}

/// <summary>
/// Decides direct vs tunnel for one proxy (ARCHITECTURE §4): <c>GATEHOUSE_TUNNEL</c> first, then a cached decision
/// younger than a day, then detection: /v1/ping's echo of what the proxy saw, and a handshake offering only
/// <c>gatehouse-tunnel</c>. The rules are pure functions over those values (<see cref="Classify"/>, <see cref="Combine"/>).
/// </summary>
internal sealed class TunnelDetector(DialerOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The decision, or null and a sentence when neither /v1/ping nor the probe got anywhere.</summary>
    public async Task<(TunnelDecision? Decision, string? Error)> DecideAsync(bool refresh, CancellationToken cancellationToken)
    {
        var setting = options.Tunnel ?? TunnelSetting.Auto;
        switch (setting.ModeFor(options.Proxy))
        {
            case TunnelMode.Always: return (new TunnelDecision(true, TunnelDecision.FromEnvironment, [$"{TunnelSetting.Variable} says always"], _time.GetUtcNow()), null);
            case TunnelMode.Never: return (new TunnelDecision(false, TunnelDecision.FromEnvironment, [$"{TunnelSetting.Variable} says never"], _time.GetUtcNow()), null);
        }
        if (!refresh && TunnelCache.Load(options.ProfileDirectory, _time) is { } cached) return (cached, null);
        var (decision, error) = await DetectAsync(cancellationToken);
        if (decision is not null) TunnelCache.Save(options.ProfileDirectory, decision);
        return (decision, error);
    }

    public async Task<(TunnelDecision? Decision, string? Error)> DetectAsync(CancellationToken cancellationToken)
    {
        var ping = await PingAsync(cancellationToken);
        var probe = ping.Echo is { } echo && Classify(echo, ping.SentSni, ping.SentAlpn).Tunnel == true ? null : await ProbeAsync(cancellationToken);
        var (tunnel, reasons, error) = Combine(ping, probe);
        return tunnel is { } t ? (new TunnelDecision(t, TunnelDecision.FromDetection, reasons, _time.GetUtcNow()), null) : (null, error);
    }

    /// <summary>
    /// What the echo alone says: tunnel when the proxy did not terminate our TLS, or saw another SNI or ALPN than we
    /// sent, or got forwarding or certificate headers (a balancer re-encrypting to it); null ("probe to be sure") when
    /// everything matches, since an L4 balancer that passes TLS through may still drop an unknown ALPN.
    /// </summary>
    public static (bool? Tunnel, string Reason) Classify(PingEcho echo, string? sentSni, string sentAlpn)
    {
        if (!echo.TlsTerminatedByProxy) return (true, "the proxy did not terminate this client's TLS: a balancer in front does");
        if (!string.Equals(echo.Sni ?? "", sentSni ?? "", StringComparison.OrdinalIgnoreCase))
            return (true, $"the proxy saw SNI '{echo.Sni ?? "(none)"}' but '{sentSni ?? "(none)"}' was sent: something re-terminates TLS");
        if (!string.Equals(echo.Alpn ?? "", sentAlpn, StringComparison.Ordinal))
            return (true, $"the proxy saw ALPN '{echo.Alpn ?? "(none)"}' but '{sentAlpn}' was sent: something re-terminates TLS or strips ALPN");
        if (echo.ForwardingHeaders.Count > 0 || echo.ClientCertificateHeaders.Count > 0)
            return (true, $"the request reached the proxy with balancer headers ({string.Join(", ", echo.ForwardingHeaders.Concat(echo.ClientCertificateHeaders))})");
        return (null, $"the proxy terminated this client's TLS itself and saw SNI '{sentSni ?? "(none)"}' and ALPN '{sentAlpn}' as sent");
    }

    /// <summary>Ping and probe together: (decision, reasons) or (null, both errors).</summary>
    public static (bool? Tunnel, IReadOnlyList<string> Reasons, string? Error) Combine(PingOutcome ping, ProbeOutcome? probe)
    {
        var reasons = new List<string>();
        bool? byPing = null;
        if (ping.Echo is { } echo)
        {
            var (tunnel, reason) = Classify(echo, ping.SentSni, ping.SentAlpn);
            reasons.Add("ping: " + reason);
            byPing = tunnel;
        }
        else reasons.Add("ping: " + (ping.Error ?? "no answer"));
        if (byPing == true || probe is null) return (byPing ?? true, reasons, null);
        if (probe.ReachedGatehouse)
        {
            reasons.Add($"probe: {AlpnProtocols.Tunnel} was negotiated, so ALPN reaches the proxy intact");
            return (false, reasons, null);
        }
        if (probe.Error is null)
        {
            reasons.Add($"probe: the handshake offering only {AlpnProtocols.Tunnel} negotiated '{probe.NegotiatedAlpn ?? "(no ALPN)"}': ALPN does not reach the proxy");
            return (true, reasons, null);
        }
        if (ping.HttpsWorked)
        {
            // Teleport counts a probe cut off with EOF as "direct" and then fails every dial; HTTPS working while the
            // probe fails means something in front speaks HTTPS but not our ALPN.
            reasons.Add($"probe: failed ({probe.Error}) while HTTPS works: a balancer in front does not pass {AlpnProtocols.Tunnel}");
            return (true, reasons, null);
        }
        return (null, reasons, $"cannot reach the proxy: /v1/ping failed ({ping.Error}) and so did the {AlpnProtocols.Tunnel} probe ({probe.Error})");
    }

    /// <summary>GET /v1/ping over HTTPS with SNI = the proxy's host name (none for an IP) and ALPN http/1.1 only. The TLS
    /// is ours (a ConnectCallback handing HttpClient a finished SslStream) so exactly what was sent is known.</summary>
    public async Task<PingOutcome> PingAsync(CancellationToken cancellationToken)
    {
        var sentSni = IPAddress.TryParse(options.Proxy.Host, out _) ? null : options.Proxy.Host;
        var sentAlpn = SslApplicationProtocol.Http11.ToString();
        var httpsWorked = false;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var tls = await OuterConnection.ConnectTlsAsync(options, token);
                httpsWorked = true;
                return tls;
            },
        };
        using var http = new HttpClient(handler) { Timeout = options.EffectiveConnectTimeout };
        try
        {
            using var response = await http.GetAsync($"http://{options.Proxy}/v1/ping", cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
                return new PingOutcome(null, true, sentSni, sentAlpn,
                    (OuterCertificate.IsCertificateRefusalStatus((int)response.StatusCode) ? options.Outer.MissingCertificateExplanation(options.Proxy.ToString()) : null)
                    ?? $"/v1/ping answered {(int)response.StatusCode} {response.ReasonPhrase}");
            using var json = JsonDocument.Parse(body);
            return PingEcho.FromPingJson(json.RootElement) is { } echo
                ? new PingOutcome(echo, true, sentSni, sentAlpn, null)
                : new PingOutcome(null, true, sentSni, sentAlpn, "/v1/ping's answer has no 'seen' object: not a Gatehouse proxy, or an old one");
        }
        catch (JsonException)
        {
            return new PingOutcome(null, true, sentSni, sentAlpn, "/v1/ping's answer is not JSON: something other than Gatehouse answered");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new PingOutcome(null, httpsWorked, sentSni, sentAlpn, OuterConnection.ExplainOuter(e, options, "HTTPS"));
        }
    }

    /// <summary>A TLS handshake offering only <c>gatehouse-tunnel</c>, as the inner TLS would be made; closed at once.</summary>
    public async Task<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveConnectTimeout);
        try
        {
            await using var tcp = await OuterConnection.ConnectTcpAsync(options.Proxy, timeout.Token);
            return await ProbeOverAsync(tcp, timeout.Token, toProxyAddress: true);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ProbeOutcome(null, OuterConnection.Explain(e, options.Proxy, "probe (inner)"));
        }
    }

    /// <summary>The probe handshake over a given transport (a tunnel, in <c>gatehouse diag tunnel</c>); owns it.</summary>
    /// <param name="toProxyAddress">Straight to the proxy's address: whoever answers (a balancer that terminates TLS, or
    /// the proxy, which does not ask on this ALPN) gets the outer certificate if it asks.</param>
    public async Task<ProbeOutcome> ProbeOverAsync(Stream transport, CancellationToken cancellationToken, bool toProxyAddress = false)
    {
        try
        {
            await using var tls = new SslStream(transport);
            var probeOptions = DialTrust.InnerOptions(options, AlpnProtocols.Tunnel);
            if (toProxyAddress) options.Outer.ApplyTo(probeOptions, watchServerCheck: false);
            if (options.HostCa is null && options.Insecure) probeOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true; // diag without a CA
            await tls.AuthenticateAsClientAsync(probeOptions, cancellationToken);
            var alpn = tls.NegotiatedApplicationProtocol.Protocol.IsEmpty ? null : tls.NegotiatedApplicationProtocol.ToString();
            return new ProbeOutcome(alpn, null);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                                  or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ProbeOutcome(null, OuterConnection.Explain(e, options.Proxy, "probe (inner)"));
        }
    }
}
