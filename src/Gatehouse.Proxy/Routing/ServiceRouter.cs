using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Services;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Routing;

/// <summary>
/// The gatehouse-* side of the one TLS port, for direct and tunnelled connections alike: it terminates TLS with the
/// host certificate, requires a client certificate judged by the one validator, applies the tunnel binding, reads the
/// dial frame, and hands the connection to the protocol's <see cref="IProtocolHandler"/>, which decides, answers in words
/// a user can act on, and relays.
/// </summary>
internal sealed class ServiceRouter(
    HostCertificateProvider certificates,
    ForwardedCertificateAuthenticator authenticator,
    AccessAudit audit,
    IEnumerable<IProtocolHandler> handlers,
    GatehouseMetrics metrics,
    ILogger<ServiceRouter> logger)
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    private readonly Dictionary<string, IProtocolHandler> _handlers = handlers.ToDictionary(h => h.Protocol, StringComparer.Ordinal);

    /// <summary>Serves one connection routed to a gatehouse-* protocol (<see cref="RouteKind.Service"/>).
    /// Owns <paramref name="transport"/> and disposes it.</summary>
    public async Task ServeAsync(Stream transport, Route route, ConnectionFacts facts, CancellationToken cancellationToken)
    {
        // 1. Terminate TLS with the host certificate; ask for (and accept any) client certificate: it is judged below,
        //    so that a refusal can be answered in a dial frame instead of a bare handshake failure.
        if (route is not { Kind: RouteKind.Service, Service: { } service } || route.Alpn is null && !route.Native)
            throw new ArgumentException("not a service route", nameof(route));
        var ping = route.Ping;
        await using var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        // A native client (plain psql) is answered in its protocol's words from the first refusal on.
        var native = route.Native ? _handlers.GetValueOrDefault(service) as INativeProtocol : null;
        Task RefuseAsync(DialAnswer refusal) =>
            native is null ? ServiceConnection.AnswerAsync(tls, refusal, cancellationToken) : native.RefuseNativelyAsync(tls, refusal, cancellationToken);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(HandshakeTimeout);
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = certificates.SelectContext(),
                    ApplicationProtocols = route.Alpn is { } alpn ? [new SslApplicationProtocol(alpn)] : null,
                    ClientCertificateRequired = service != AlpnProtocols.Tunnel,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    CertificateChainPolicy = HostCertificateProvider.UnusedClientChainPolicy(),
                }, timeout.Token);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
            {
                ProxyLog.HandshakeFailed(logger, facts.ConnectionId, facts.Client.ToString(), e.Message);
                metrics.HandshakeFailure(e is OperationCanceledException ? GatehouseMetrics.Reasons.Timeout : GatehouseMetrics.Reasons.Tls);
                return;
            }
        }
        // 2. The probe protocol proves ALPN reached us intact; nothing more to say.
        if (service == AlpnProtocols.Tunnel) return;

        // 3. Who is it? The same judgement as for forwarded certificates.
        using var presented = tls.RemoteCertificate is { } remote ? new X509Certificate2(remote) : null;
        if (presented is null)
        {
            metrics.HandshakeFailure(GatehouseMetrics.Reasons.NoClientCertificate);
            await RefuseAsync(DialAnswer.Refuse(DialCodes.Unauthenticated, native is null
                ? "no client certificate was presented; log in with `gatehouse login` (or pass the identity from `gatehouse admin certs issue`)"
                : "no client certificate was presented; give your Gatehouse certificate (sslcert and sslkey: `gatehouse db config NAME` prints them)"));
            return;
        }
        await authenticator.PrefetchHandshakeAsync(presented, [], cancellationToken);
        var verdict = authenticator.AuthenticateHandshake(presented, [], facts.Client, out _);
        if (verdict.Status != ForwardedStatus.Authenticated)
        {
            metrics.HandshakeFailure(GatehouseMetrics.Reasons.CertificateRefused);
            await audit.CertificateRefusedAsync(verdict, facts.Client, service, ServiceConnection.ArrivalDetails(facts), cancellationToken);
            await RefuseAsync(DialAnswer.Refuse(DialCodes.Unauthenticated, $"your certificate was refused ({verdict.Reason}): {verdict.Message}"));
            return;
        }
        if (verdict.Warning is { } warning) ProxyLog.CertificateAcceptedWithWarning(logger, verdict.Certificate!.Subject, verdict.Certificate.Serial, warning);
        var caller = Caller.Of(verdict, facts.Client);

        // 3b. Through a front that forwarded a certificate, the inner one must be the same user (ARCHITECTURE §4).
        if (facts.Outer is { } outer
            && await TunnelBinding.EnforceAsync(audit, logger, outer, caller, facts.Arrival, facts.ConnectionId, cancellationToken) is { } refusal)
        {
            metrics.HandshakeFailure(GatehouseMetrics.Reasons.BindingRefused);
            await RefuseAsync(DialAnswer.Refuse(DialCodes.Binding, refusal));
            return;
        }

        // 4. What does it want? A native client said it with its server name.
        var (request, frameError) = route.Native ? (new DialRequest(route.Target ?? ""), null) : await ReadDialAsync(tls, cancellationToken);
        if (request is null)
        {
            await ServiceConnection.AnswerAsync(tls, DialAnswer.Refuse(DialCodes.BadRequest, frameError!), cancellationToken);
            return;
        }

        // 5. The protocol's handler decides, connects and relays.
        if (!_handlers.TryGetValue(service, out var handler))
        {
            await ServiceConnection.AnswerAsync(tls, DialAnswer.Refuse(DialCodes.NotFound,
                $"{service} is not served by this proxy yet; it serves {string.Join(", ", _handlers.Keys.Order())}"), cancellationToken);
            return;
        }
        await handler.ServeAsync(new ServiceConnection(tls, ping, request, caller, facts, audit, native), cancellationToken);
    }

    private static async Task<(DialRequest? Request, string? Error)> ReadDialAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            return await DialFrames.ReadRequestAsync(stream, timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return (null, "no dial frame arrived in time");
        }
    }
}
