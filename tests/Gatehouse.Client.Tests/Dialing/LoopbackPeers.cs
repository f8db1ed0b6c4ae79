using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Client.Dialing;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Client.Tests.Dialing;

/// <summary>A host CA made at test time, a proxy certificate for 127.0.0.1, localhost and gatehouse.internal, and a client certificate.</summary>
internal sealed class TestPki : IDisposable
{
    public X509Certificate2 Ca { get; }
    public X509Certificate2 Proxy { get; }
    public X509Certificate2 Client { get; }

    public TestPki()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=test host CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        Ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
        Proxy = Issue("CN=proxy", "1.3.6.1.5.5.7.3.1", san =>
        {
            san.AddDnsName(ProxyProtocol.InternalHostName);
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
        });
        Client = Issue("CN=alice", "1.3.6.1.5.5.7.3.2", _ => { });
    }

    /// <summary>Another client certificate from the same CA (a stand-in for a company certificate a balancer trusts).</summary>
    public X509Certificate2 IssueClient(string subject) => Issue(subject, "1.3.6.1.5.5.7.3.2", _ => { });

    private X509Certificate2 Issue(string subject, string eku, Action<SubjectAlternativeNameBuilder> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(eku)], false));
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(Ca, now.AddMinutes(-1), now.AddMinutes(50), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12 so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public DialerOptions Options(int port, bool insecure = false) =>
        new(new ProxyAddress("127.0.0.1", port), Client, Ca, insecure, ConnectTimeout: TimeSpan.FromSeconds(10));

    public void Dispose()
    {
        Ca.Dispose();
        Proxy.Dispose();
        Client.Dispose();
    }
}

/// <summary>What the in-test /v1/tunnel does with a request.</summary>
internal enum PeerMode { Echo, Proxy, WrongSubProtocol, NoSubProtocol, Refuse400 }

/// <summary>
/// A tiny stand-in for the proxy's web side on 127.0.0.1:0 (Kestrel, HTTPS with the test certificate): /v1/tunnel
/// takes a WebSocket or the raw upgrade and either echoes bytes or plays the proxy's inner side (<see cref="InnerPeer"/>).
/// </summary>
internal sealed class TunnelPeer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TunnelPeer(WebApplication app, int port, List<string> seen) => (_app, Port, _seen) = (app, port, seen);

    private readonly List<string> _seen;

    public int Port { get; }

    /// <summary>The client certificate's subject Kestrel saw on each request ("(none)": HttpContext.Connection.ClientCertificate was null).</summary>
    public IReadOnlyList<string> SeenClientCertificates { get { lock (_seen) return [.. _seen]; } }

    /// <param name="clientCertificates">How the outer TLS asks for a client certificate (a verify-mode balancer: RequireCertificate,
    /// accepting certificates from the test CA).</param>
    public static async Task<TunnelPeer> StartAsync(TestPki pki, PeerMode mode, Func<DialRequest, DialAnswer>? answer = null,
        ClientCertificateMode clientCertificates = ClientCertificateMode.NoCertificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.UseHttps(https =>
            {
                https.ServerCertificate = pki.Proxy;
                https.ClientCertificateMode = clientCertificates;
                https.ClientCertificateValidation = (certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(pki.Ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    chain.ChainPolicy.DisableCertificateDownloads = true;
                    return chain.Build(certificate);
                };
            });
        }));
        var app = builder.Build();
        var seen = new List<string>();
        app.Use((context, next) =>
        {
            lock (seen) seen.Add(context.Connection.ClientCertificate?.Subject ?? "(none)");
            return next(context);
        });
        app.UseWebSockets();
        app.MapGet("/v1/ping", (HttpContext context) => Results.Json(new
        {
            cluster_name = "test",
            seen = new
            {
                tls_terminated_by_proxy = context.Request.IsHttps,
                sni = context.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>()?.HostName,
                alpn = context.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ISslStreamFeature>()?.SslStream.NegotiatedApplicationProtocol.ToString(),
                client_certificate_headers = Array.Empty<string>(),
                forwarding_headers = Array.Empty<string>(),
            },
        }));
        app.Map(ProxyProtocol.TunnelPath, async context =>
        {
            if (mode == PeerMode.Refuse400)
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync("This balancer does not pass upgrades here.");
                return;
            }
            Stream stream;
            if (context.WebSockets.IsWebSocketRequest)
            {
                var requested = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault();
                var chosen = mode switch { PeerMode.WrongSubProtocol => "chat", PeerMode.NoSubProtocol => null, _ => requested };
                var socket = await context.WebSockets.AcceptWebSocketAsync(chosen);
                stream = WebSocketStream.Create(socket, WebSocketMessageType.Binary, TimeSpan.FromSeconds(2));
            }
            else if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade
                     && context.Request.Headers.Upgrade == ProxyProtocol.RawUpgrade)
            {
                context.Response.Headers.Upgrade = ProxyProtocol.RawUpgrade;
                context.Response.Headers[ProxyProtocol.UpgradeHeader] = ProxyProtocol.RawUpgrade;
                stream = await upgrade.UpgradeAsync();
            }
            else
            {
                context.Response.StatusCode = 426;
                return;
            }
            await using (stream)
            {
                if (mode == PeerMode.Proxy) await InnerPeer.ServeAsync(stream, pki, answer ?? (_ => DialAnswer.Accepted), context.RequestAborted);
                else await EchoAsync(stream, context.RequestAborted);
            }
        });
        await app.StartAsync();
        var port = new Uri(app.Urls.First()).Port;
        return new TunnelPeer(app, port, seen);
    }

    public static async Task EchoAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or WebSocketException or OperationCanceledException)
        {
            // The client went away.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The proxy's inner side as ARCHITECTURE §3 describes it: TLS for gatehouse.internal with the client's ALPN,
/// a client certificate required, the dial frame read and answered, then an echo (ping-framed for -ping).</summary>
internal static class InnerPeer
{
    public static readonly List<string> SeenAlpn = [];

    public static async Task ServeAsync(Stream transport, TestPki pki, Func<DialRequest, DialAnswer> answer, CancellationToken cancellationToken)
    {
        await using var tls = new SslStream(transport, leaveInnerStreamOpen: true);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = pki.Proxy,
                ClientCertificateRequired = true,
                ApplicationProtocols = [.. AlpnProtocols.Services.SelectMany(s => new[] { s, s + AlpnProtocols.PingSuffix }).Select(p => new SslApplicationProtocol(p))],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=alice",
            }, cancellationToken);
            var alpn = tls.NegotiatedApplicationProtocol.ToString();
            lock (SeenAlpn) SeenAlpn.Add(alpn);
            if (alpn == AlpnProtocols.Tunnel) return; // the probe
            var (request, _) = await DialFrames.ReadRequestAsync(tls, cancellationToken);
            var reply = request is null ? DialAnswer.Refuse(DialCodes.BadRequest, "no dial frame") : answer(request);
            await DialFrames.WriteAsync(tls, reply, cancellationToken);
            if (!reply.Ok) return;
            Stream data = alpn.EndsWith(AlpnProtocols.PingSuffix, StringComparison.Ordinal) ? new PingFramedStream(tls, null) : tls;
            await TunnelPeer.EchoAsync(data, cancellationToken);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            // A refused or vanished client.
        }
    }
}
