using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Edge.Headers;
using Gatehouse.Edge.Logging;
using Gatehouse.Edge.Trust;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// One client connection as the edge sees it, kept in the connection's features from accept to close: what the TLS
/// handshake presented and concluded, the mTLS header values every request on it carries, and its <c>conn_trace_id</c>
/// linking the connection-log line to the access-log lines.
/// </summary>
internal sealed class EdgeConnection(EdgeListener listener, IPEndPoint client, IPEndPoint local) : IDisposable
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private bool _logged;

    public EdgeListener Listener { get; } = listener;

    public IPEndPoint Client { get; } = client;

    public IPEndPoint Local { get; } = local;

    public string ConnTraceId { get; } = "TID_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The leaf the client presented (null: none), and the rest of what it sent, in its order.</summary>
    public X509Certificate2? Leaf { get; private set; }

    public IReadOnlyList<X509Certificate2> Presented { get; private set; } = [];

    public ClientCertificateVerdict? Verdict { get; set; }

    public MtlsRequestHeaders MtlsHeaders { get; private set; } = MtlsRequestHeaders.None;

    public string? Protocol { get; private set; }

    public string? Cipher { get; private set; }

    public string? ServerName { get; private set; }

    /// <summary>Keeps copies of what the client presented (the handshake's own objects are disposed with it).</summary>
    public void Present(X509Certificate? leaf, X509Chain? chain)
    {
        if (leaf is null || Leaf is not null) return; // judged once per handshake
        Leaf = X509CertificateLoader.LoadCertificate(leaf.GetRawCertData());
        var rest = new List<X509Certificate2>();
        foreach (var extra in chain?.ChainPolicy.ExtraStore ?? [])
            if (!extra.RawDataMemory.Span.SequenceEqual(Leaf.RawDataMemory.Span))
                rest.Add(X509CertificateLoader.LoadCertificate(extra.RawData));
        Presented = rest;
    }

    /// <summary>The handshake succeeded: the header values are fixed for the connection's life, and its log line is written.</summary>
    public void HandshakeDone(System.Security.Authentication.SslProtocols protocol, System.Net.Security.TlsCipherSuite? cipher, string? serverName)
    {
        Protocol = TlsNames.Protocol(protocol);
        Cipher = cipher is { } suite ? TlsNames.Cipher(suite) : null;
        ServerName = serverName;
        MtlsHeaders = Listener.Options.Mtls.Mode switch
        {
            Configuration.MtlsMode.Passthrough when Leaf is not null => MtlsRequestHeaders.Passthrough([Leaf, .. Presented]),
            Configuration.MtlsMode.Verify when Leaf is not null && Verdict is { Accepted: true } => MtlsRequestHeaders.Verified(Leaf),
            _ => MtlsRequestHeaders.None,
        };
        WriteLog(Stopwatch.GetElapsedTime(_started), Listener.Options.Mtls.Mode == Configuration.MtlsMode.Off ? "-" : Verdict?.LogWord ?? "Success");
    }

    /// <summary>At close: a connection whose handshake failed still gets its line — the verify verdict when there was one,
    /// else <c>Failed:UnmappedConnectionError</c> (a handshake that failed for another reason).</summary>
    public void Closed()
    {
        if (!_logged) WriteLog(null, Verdict?.LogWord ?? (Listener.Options.Mtls.Mode == Configuration.MtlsMode.Off ? "-" : "Failed:UnmappedConnectionError"));
    }

    private void WriteLog(TimeSpan? latency, string status)
    {
        _logged = true;
        var leaf = Leaf;
        Listener.ConnectionLog?.Write(LogLines.Connection(new ConnectionFacts(DateTimeOffset.UtcNow, Client.Address, Client.Port, Local.Port, Protocol, Cipher,
            latency, leaf is null ? null : Rfc2253.Format(leaf.SubjectName), leaf is null ? null : MtlsHeaderValues.Validity(leaf),
            leaf is null ? null : MtlsHeaderValues.SerialNumber(leaf), status,
            ConnTraceId, Listener.Elb, Local.Address)));
    }

    public void Dispose()
    {
        Leaf?.Dispose();
        foreach (var certificate in Presented) certificate.Dispose();
    }
}
