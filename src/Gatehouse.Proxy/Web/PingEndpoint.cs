using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Gatehouse.Cluster;
using Gatehouse.Proxy.Authentication;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Gatehouse.Proxy.Web;

/// <summary>
/// GET /v1/ping: who this proxy is, and what it saw of the caller's connection, so a client can tell whether a
/// balancer sits between them (ARCHITECTURE §4 detection).
/// </summary>
internal static class PingEndpoint
{
    /// <summary>Header names (lower case) that carry a client certificate from a balancer (shared/spec/lb-client-cert-headers.md §7).</summary>
    private static readonly string[] CertificateHeaderPrefixes =
        ["x-amzn-mtls-clientcert", "x-forwarded-client-cert", "x-client-cert", "client-cert", "x-forwarded-tls-client-cert",
         "x-ssl-client", "cf-client-cert", "x-arr-clientcert"];

    private static readonly string[] ForwardingHeaders = ["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "via"];

    public static readonly string Version =
        typeof(PingEndpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static void Map(WebApplication app, ClusterState cluster)
    {
        var fingerprints = new CaFingerprints(
            Convert.ToHexString(SHA256.HashData(cluster.Authorities.User.Certificate.RawData)),
            Convert.ToHexString(SHA256.HashData(cluster.Authorities.Host.Certificate.RawData)),
            cluster.Authorities.SshUser.Fingerprint);
        // The host CA itself too (public): a client's first contact pins it once its fingerprint is confirmed (gatehouse login --insecure).
        var hostCa = cluster.Authorities.Host.Certificate.ExportCertificatePem();
        app.MapGet("/v1/ping", (HttpContext context) => Results.Json(new PingResponse(
            cluster.Authorities.ClusterName, Version, fingerprints, Seen(context), hostCa), PingJson.Default.PingResponse));
    }

    private static SeenConnection Seen(HttpContext context)
    {
        var handshake = context.Features.Get<ITlsHandshakeFeature>();
        var alpn = context.Features.Get<ISslStreamFeature>()?.SslStream.NegotiatedApplicationProtocol.Protocol;
        var names = context.Request.Headers.Keys.Select(k => k.ToLowerInvariant()).ToList();
        // The header guard took the certificate headers out of the request before this runs; it kept their names.
        var certificateHeaders = names.Where(n => CertificateHeaderPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            .Concat(context.Features.Get<RequestIdentityFeature>()?.ArrivedCertificateHeaders ?? []).Distinct().Order();
        return new SeenConnection(
            TlsTerminatedByProxy: context.Request.IsHttps,
            Sni: handshake?.HostName is { Length: > 0 } sni ? sni : null,
            Alpn: alpn is { Length: > 0 } a ? System.Text.Encoding.ASCII.GetString(a.Span) : null,
            ClientCertificate: context.Connection.ClientCertificate is not null,
            ClientCertificateHeaders: [.. certificateHeaders],
            ForwardingHeaders: [.. names.Where(ForwardingHeaders.Contains).Order()],
            RemoteAddress: context.Connection.RemoteIpAddress?.ToString());
    }
}

internal sealed record CaFingerprints(
    [property: JsonPropertyName("user_sha256")] string User,
    [property: JsonPropertyName("host_sha256")] string Host,
    [property: JsonPropertyName("ssh_user")] string SshUser);

internal sealed record SeenConnection(
    [property: JsonPropertyName("tls_terminated_by_proxy")] bool TlsTerminatedByProxy,
    [property: JsonPropertyName("sni")] string? Sni,
    [property: JsonPropertyName("alpn")] string? Alpn,
    [property: JsonPropertyName("client_certificate")] bool ClientCertificate,
    [property: JsonPropertyName("client_certificate_headers")] IReadOnlyList<string> ClientCertificateHeaders,
    [property: JsonPropertyName("forwarding_headers")] IReadOnlyList<string> ForwardingHeaders,
    [property: JsonPropertyName("remote_addr")] string? RemoteAddress);

internal sealed record PingResponse(
    [property: JsonPropertyName("cluster_name")] string ClusterName,
    [property: JsonPropertyName("proxy_version")] string ProxyVersion,
    [property: JsonPropertyName("ca_fingerprints")] CaFingerprints CaFingerprints,
    [property: JsonPropertyName("seen")] SeenConnection Seen,
    [property: JsonPropertyName("host_ca")] string HostCa);

[JsonSerializable(typeof(PingResponse))]
internal sealed partial class PingJson : JsonSerializerContext;
