using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Headers;
using Gatehouse.Edge.Logging;
using Gatehouse.Edge.Routing;
using Gatehouse.Edge.Trust;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// One HTTPS listener, ready to serve: its certificate, its rules, its mTLS header names and the names it strips, and —
/// in verify mode — the trust store's verifier. Gives each connection its own TLS options, so the client-certificate
/// callback knows which connection it judges.
/// </summary>
internal sealed class EdgeListener(ListenerOptions options, string elb, X509Certificate2 certificate, SslStreamCertificateContext context,
    ClientCertificateVerifier? verifier, LogSink? connectionLog, ILogger logger) : IDisposable
{
    public ListenerOptions Options { get; } = options;

    public string Elb { get; } = elb;

    public ListenerRules Rules { get; } = new(options.Rules, options.DefaultTargetGroup);

    public IReadOnlySet<string> StrippedHeaders { get; } = ForwardedHeaders.StrippedNames(options.HeaderNames);

    public LogSink? ConnectionLog { get; } = connectionLog;

    public string Name => Options.Listen.ToString();

    /// <summary>Loads the certificate, key and trust store; every problem goes to <paramref name="errors"/> under <paramref name="key"/>.</summary>
    public static EdgeListener? Create(ListenerOptions options, string key, string elb, LogSink? connectionLog, ILogger logger, TimeProvider time,
        List<string> errors)
    {
        X509Certificate2 certificate;
        X509Certificate2Collection chain = [];
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.CertificateFile, options.KeyFile);
            chain.ImportFromPemFile(options.CertificateFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            errors.Add($"{key}.certificate: cannot load {options.CertificateFile} with {options.KeyFile} ({e.Message.TrimEnd('.')}); " +
                       "give a PEM certificate (its chain may follow) and its PEM private key");
            return null;
        }
        EdgeTrustStore? store = null;
        if (options.Mtls.TrustStore is { } trust)
            store = EdgeTrustStore.Load(trust, $"{key}.mutual_authentication.trust_store", errors);
        if (store is null && options.Mtls.TrustStore is not null)
        {
            certificate.Dispose();
            return null;
        }
        var intermediates = new X509Certificate2Collection();
        foreach (var extra in chain)
            if (!extra.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span)) intermediates.Add(extra);
        var advertised = options.Mtls.AdvertiseTrustStoreCaNames && store is not null ? SslCertificateTrust.CreateForX509Collection(store.All, sendTrustInHandshake: true) : null;
        var context = SslStreamCertificateContext.Create(certificate, intermediates, offline: true, advertised);
        var verifier = options.Mtls.Mode == MtlsMode.Verify ? new ClientCertificateVerifier(store!, options.Mtls.IgnoreClientCertificateExpiry, time) : null;
        return new EdgeListener(options, elb, certificate, context, verifier, connectionLog, logger);
    }

    /// <summary>
    /// TLS for one connection. Off: no certificate asked. Passthrough: one asked for, anything (or nothing) taken, the chain
    /// kept. Verify: one required and judged here, in the handshake; a refusal fails the handshake, as ALB's does. Session
    /// resumption is off whenever a certificate is asked for (ALB does not resume mutual-TLS sessions, spec §1.1).
    /// </summary>
    public SslServerAuthenticationOptions ServerOptions(EdgeConnection connection)
    {
        var mode = Options.Mtls.Mode;
        var tls = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            ClientCertificateRequired = mode != MtlsMode.Off,
            AllowRenegotiation = false,
            AllowTlsResume = mode == MtlsMode.Off,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (mode != MtlsMode.Off)
            tls.RemoteCertificateValidationCallback = (_, presented, chain, _) => Judge(connection, presented, chain);
        return tls;
    }

    private bool Judge(EdgeConnection connection, X509Certificate? certificate, X509Chain? chain)
    {
        connection.Present(certificate, chain);
        if (verifier is null) return true; // passthrough: ALB verifies nothing
        var verdict = verifier.Verify(connection.Leaf, connection.Presented);
        connection.Verdict = verdict;
        if (!verdict.Accepted)
            EdgeLog.CertificateRefused(logger, Name, connection.Client.ToString(), verdict.LogWord, verdict.Reason);
        return verdict.Accepted;
    }

    public void Dispose() => certificate.Dispose();
}
