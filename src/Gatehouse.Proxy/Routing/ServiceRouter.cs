using Gatehouse.Proxy.Tunnel;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Access;
using Gatehouse.Audit;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.Proxy.Apps;
using Gatehouse.Proxy.Hosting;
using Gatehouse.Routing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Routing;

/// <summary>
/// The gatehouse-* side of the one TLS port, for direct and tunnelled connections alike: it terminates TLS with the
/// host certificate, requires a client certificate judged by the one validator, reads the dial frame, decides, answers
/// in words a user can act on, and then pipes bytes to the service.
/// </summary>
internal sealed class ServiceRouter(
    HostCertificateProvider certificates,
    ForwardedCertificateAuthenticator authenticator,
    RoleCatalog roles,
    ClusterState cluster,
    ProxyOptions options,
    GatehouseMetrics metrics,
    ILogger<ServiceRouter> logger)
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    private readonly Dictionary<string, TcpApp> _tcpApps = options.TcpApps.ToDictionary(a => a.Name, StringComparer.Ordinal);

    /// <summary>Serves one connection whose ClientHello offered <paramref name="alpn"/> (a gatehouse-* protocol).
    /// Owns <paramref name="transport"/> and disposes it.</summary>
    public async Task ServeAsync(Stream transport, string alpn, ConnectionFacts facts, CancellationToken cancellationToken)
    {
        // 1. Terminate TLS with the host certificate; ask for (and accept any) client certificate: it is judged below,
        //    so that a refusal can be answered in a dial frame instead of a bare handshake failure.
        var (service, ping) = AlpnProtocols.Parse(alpn) ?? throw new ArgumentException($"not a gatehouse protocol: {alpn}", nameof(alpn));
        await using var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(HandshakeTimeout);
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificates.Select(),
                    ApplicationProtocols = [new SslApplicationProtocol(alpn)],
                    ClientCertificateRequired = service != AlpnProtocols.Tunnel,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
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
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.Unauthenticated,
                "no client certificate was presented; log in with `gatehouse login` (or pass the identity from `gatehouse admin certs issue`)"), cancellationToken);
            return;
        }
        var verdict = authenticator.AuthenticateHandshake(presented, [], facts.Client, out _);
        if (verdict.Status != ForwardedStatus.Authenticated)
        {
            metrics.HandshakeFailure(GatehouseMetrics.Reasons.CertificateRefused);
            await AuditDecisionAsync(null, $"{service}", facts, "denied", $"{verdict.Reason}: {verdict.Message}", verdict.Certificate, cancellationToken);
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.Unauthenticated, $"your certificate was refused ({verdict.Reason}): {verdict.Message}"), cancellationToken);
            return;
        }
        var identity = verdict.Identity!;

        // 3b. Through a front that forwarded a certificate, the inner one must be the same user (ARCHITECTURE §4).
        if (facts.Outer is { } outer && await TunnelBinding.EnforceAsync(cluster, logger, outer, identity.User, TunnelBinding.InnerCredential.Certificate,
                verdict.Certificate, facts.Client, facts.Arrival, facts.ConnectionId, cancellationToken) is { } refusal)
        {
            metrics.HandshakeFailure(GatehouseMetrics.Reasons.BindingRefused);
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.Binding, refusal), cancellationToken);
            return;
        }

        // 4. What does it want?
        var (request, frameError) = await ReadDialAsync(tls, cancellationToken);
        if (request is null)
        {
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.BadRequest, frameError!), cancellationToken);
            return;
        }

        // 5. Decide and connect (one method per service), then pipe.
        switch (service)
        {
            case AlpnProtocols.Tcp:
                await ServeTcpAppAsync(tls, ping, request, identity, verdict.Certificate, facts, cancellationToken);
                break;
            default:
                await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.NotFound,
                    $"{service} is not served by this proxy yet; TCP apps (gatehouse-tcp) are"), cancellationToken);
                break;
        }
    }

    private async Task ServeTcpAppAsync(SslStream tls, bool ping, DialRequest request, Identity.Identity identity, CertificateFacts? certificate,
        ConnectionFacts facts, CancellationToken cancellationToken)
    {
        var resource = $"tcp-app:{request.Target}";
        if (!_tcpApps.TryGetValue(request.Target, out var app))
        {
            if (options.HttpApps.Any(a => a.Name == request.Target))
            {
                await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.HttpApp,
                    $"'{request.Target}' is an HTTP app: it is served at /apps/{request.Target}/ (`gatehouse proxy app` serves it over HTTP)"), cancellationToken);
                return;
            }
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.NotFound,
                $"there is no TCP app named '{request.Target}' (this proxy serves: {(_tcpApps.Count == 0 ? "none" : string.Join(", ", _tcpApps.Keys.Order()))})"), cancellationToken);
            return;
        }
        var decision = (await roles.CheckerForAsync(identity, cancellationToken)).CheckApp(app.Name, app.Labels);
        // An allowed probe connects nothing, so it is no access to record; a denied one is a refusal like any other.
        if (!(decision.Allowed && request.Probe == true))
            await AuditDecisionAsync(identity.User, resource, facts, decision.Allowed ? "allowed" : "denied", decision.Reason, certificate, cancellationToken);
        if (!decision.Allowed)
        {
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.Denied, decision.Reason), cancellationToken);
            return;
        }
        if (request.Probe == true)
        {
            await AnswerAsync(tls, DialAnswer.Accepted, cancellationToken);
            return;
        }

        var upstream = new TcpClient { NoDelay = true };
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(HandshakeTimeout);
            await upstream.ConnectAsync(app.Host, app.Port, connectTimeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            upstream.Dispose();
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.Unreachable,
                $"app '{app.Name}' at {app.Address} does not answer ({(e is OperationCanceledException ? "timed out" : e.Message)}); tell its owner"), cancellationToken);
            return;
        }
        await AnswerAsync(tls, DialAnswer.Accepted, cancellationToken);
        await using var appStream = upstream.GetStream();
        Stream client = ping ? new PingFramedStream(tls, options.PingInterval, cluster.Time) : tls;
        try
        {
            // No session outlives the certificate it was allowed for (as for forwarded HTTP: ForwardedCaller.EndAtExpiry).
            var left = Timeout.InfiniteTimeSpan;
            if (certificate is not null) left = certificate.NotAfter > cluster.Time.GetUtcNow() ? certificate.NotAfter - cluster.Time.GetUtcNow() : TimeSpan.Zero;
            using var expiry = new CancellationTokenSource(left, cluster.Time);
            using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
            var result = await DuplexPump.RunAsync(client, appStream, session.Token);
            metrics.Bytes(ByteDirection.In, result.LeftToRight);
            metrics.Bytes(ByteDirection.Out, result.RightToLeft);
            var how = expiry.IsCancellationRequested ? $"the certificate expired at {certificate!.NotAfter:u}" : result.Failure?.Message ?? "closed";
            ProxyLog.SessionEnded(logger, facts.ConnectionId, identity.User, resource, result.LeftToRight, result.RightToLeft, how);
        }
        finally
        {
            if (ping) await client.DisposeAsync();
            upstream.Dispose();
        }
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

    private static async Task AnswerAsync(Stream stream, DialAnswer answer, CancellationToken cancellationToken)
    {
        try
        {
            await DialFrames.WriteAsync(stream, answer, cancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client left; nothing to tell.
        }
    }

    private ValueTask<Storage.AuditEvent> AuditDecisionAsync(string? user, string resource, ConnectionFacts facts, string decision, string reason,
        CertificateFacts? certificate, CancellationToken cancellationToken) =>
        cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.AccessDecision, user) with
        {
            IdentitySource = "handshake",
            CertificateIssuer = certificate?.Issuer,
            CertificateSerial = certificate?.Serial,
            CertificateSha256 = certificate?.Sha256,
            SourceIp = facts.Client.ToString(),
            Resource = resource,
            Decision = decision,
            Reason = reason,
            Details = new Dictionary<string, string> { ["arrival"] = facts.Arrival },
        }, cancellationToken);
}
