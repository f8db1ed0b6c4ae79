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
        if (facts.Outer is { } outer && BindingRefusal(outer, identity) is { } refusal)
        {
            metrics.HandshakeFailure(GatehouseMetrics.Reasons.BindingRefused);
            ProxyLog.TunnelBindingRefused(logger, facts.ConnectionId, outer.Front, outer.Verdict.Identity?.User ?? "(refused certificate)", identity.User);
            await AuditBindingRefusedAsync(outer, identity, verdict.Certificate, facts, refusal, cancellationToken);
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
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.NotFound,
                $"there is no TCP app named '{request.Target}' (this proxy serves: {(_tcpApps.Count == 0 ? "none" : string.Join(", ", _tcpApps.Keys.Order()))})"), cancellationToken);
            return;
        }
        var decision = (await roles.CheckerForAsync(identity, cancellationToken)).CheckApp(app.Name, app.Labels);
        await AuditDecisionAsync(identity.User, resource, facts, decision.Allowed ? "allowed" : "denied", decision.Reason, certificate, cancellationToken);
        if (!decision.Allowed)
        {
            await AnswerAsync(tls, DialAnswer.Refuse(DialCodes.Denied, decision.Reason), cancellationToken);
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
            var result = await DuplexPump.RunAsync(client, appStream, cancellationToken);
            metrics.Bytes(ByteDirection.In, result.LeftToRight);
            metrics.Bytes(ByteDirection.Out, result.RightToLeft);
            ProxyLog.SessionEnded(logger, facts.ConnectionId, identity.User, resource, result.LeftToRight, result.RightToLeft, result.Failure?.Message ?? "closed");
        }
        finally
        {
            if (ping) await client.DisposeAsync();
            upstream.Dispose();
        }
    }

    /// <summary>Null when the inner identity is the user the front vouched for; else the sentence for the dial answer.
    /// Users are compared by name: for a company certificate that is the mapped user, so alice's company certificate
    /// outside and alice's Gatehouse certificate inside are one person.</summary>
    private static string? BindingRefusal(OuterIdentity outer, Identity.Identity inner)
    {
        var setting = $"proxy.trusted_fronts '{outer.Front}' has bind_tunnel_identity: required";
        if (outer.Verdict is not { Status: ForwardedStatus.Authenticated, Identity: { } vouched })
            return $"the client certificate the balancer (front '{outer.Front}') forwarded for this tunnel was refused " +
                   $"({outer.Verdict.Reason}: {outer.Verdict.Message}), so it cannot vouch for your inner certificate of {inner.User}; " +
                   $"{setting}; offer the balancer a certificate of {inner.User}";
        if (string.Equals(vouched.User, inner.User, StringComparison.Ordinal)) return null;
        return $"this tunnel came through the balancer (front '{outer.Front}') with the client certificate of {vouched.User}, but its inner certificate is " +
               $"{inner.User}'s; both must be the same user ({setting}) — offer the balancer {inner.User}'s certificate, or log in as {vouched.User}";
    }

    private ValueTask<Storage.AuditEvent> AuditBindingRefusedAsync(OuterIdentity outer, Identity.Identity inner, CertificateFacts? innerCertificate,
        ConnectionFacts facts, string reason, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string>
        {
            ["front"] = outer.Front,
            ["arrival"] = facts.Arrival,
            ["inner_user"] = inner.User,
            ["outer_user"] = outer.Verdict.Identity?.User ?? "",
        };
        if (outer.Verdict.Certificate is { } outerCertificate)
        {
            details["outer_subject"] = outerCertificate.Subject;
            details["outer_issuer"] = outerCertificate.Issuer;
            details["outer_serial"] = outerCertificate.Serial;
            details["outer_sha256"] = outerCertificate.Sha256;
        }
        return cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.TunnelBindingRefused, inner.User) with
        {
            IdentitySource = "handshake",
            CertificateIssuer = innerCertificate?.Issuer,
            CertificateSerial = innerCertificate?.Serial,
            CertificateSha256 = innerCertificate?.Sha256,
            SourceIp = facts.Client.ToString(),
            Decision = "denied",
            Reason = reason,
            Details = details,
        }, cancellationToken);
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
