using System.Net;

namespace Gatehouse.Edge.Configuration;

/// <summary>A listener's mutual-TLS mode, as the ALB API names them (spec §1.1).</summary>
internal enum MtlsMode { Off, Passthrough, Verify }

/// <summary><c>routing.http.xff_header_processing.mode</c> (spec §1.9).</summary>
internal enum XffMode { Append, Preserve, Remove }

internal enum TargetProtocol { Http, Https }

/// <summary>The whole edge: listeners, target groups and the load-balancer attributes, validated (every error at once) by the
/// command that reads the YAML file.</summary>
/// <param name="Name">The <c>elb</c> field of the logs.</param>
internal sealed record EdgeOptions(string Name, IReadOnlyList<ListenerOptions> Listeners, IReadOnlyList<TargetGroupOptions> TargetGroups)
{
    /// <summary><c>idle_timeout.timeout_seconds</c>: 60 s unless set (1–4000 s).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public XffMode Xff { get; init; } = XffMode.Append;

    /// <summary><c>routing.http.xff_client_port.enabled</c>: the client's port goes into X-Forwarded-For too.</summary>
    public bool XffClientPort { get; init; }

    /// <summary>Where connection-log lines go: a file path, <see cref="LogTarget.Stdout"/>, or nowhere (null).</summary>
    public string? ConnectionLog { get; init; }

    public string? AccessLog { get; init; }
}

/// <summary>Log destinations besides a file path.</summary>
internal static class LogTarget
{
    public const string Stdout = "stdout";
}

/// <param name="Rules">In order of priority: the first that matches wins.</param>
/// <param name="DefaultTargetGroup">Where requests no rule matches go; null: a 404 answer, as an ALB's fixed-response default.</param>
internal sealed record ListenerOptions(IPEndPoint Listen, string CertificateFile, string KeyFile, MutualAuthenticationOptions Mtls,
    IReadOnlyList<RuleOptions> Rules, string? DefaultTargetGroup, MtlsHeaderNames HeaderNames);

internal sealed record MutualAuthenticationOptions(MtlsMode Mode, TrustStoreOptions? TrustStore = null, bool IgnoreClientCertificateExpiry = false,
    bool AdvertiseTrustStoreCaNames = false)
{
    public static MutualAuthenticationOptions Off { get; } = new(MtlsMode.Off);
}

/// <param name="CaBundle">The PEM bundle, held to ALB's rules (the Trust folder's EdgeTrustStore).</param>
/// <param name="Crls">CRL files (PEM or DER), each signed by a CA of the bundle.</param>
internal sealed record TrustStoreOptions(string CaBundle, IReadOnlyList<string> Crls);

/// <summary>One listener rule: a host pattern, a path pattern or both (ALB wildcards <c>*</c> and <c>?</c>).</summary>
internal sealed record RuleOptions(string? Host, string? Path, string TargetGroup);

internal sealed record TargetGroupOptions(string Name, TargetProtocol Protocol, IReadOnlyList<DnsEndPoint> Targets, TargetTlsOptions? Tls,
    HealthCheckOptions? HealthCheck);

/// <param name="CaFile">The CA the HTTPS targets' certificates chain to.</param>
/// <param name="ServerName">The name sent (SNI) and checked in the target's certificate; the target's host when null.</param>
internal sealed record TargetTlsOptions(string CaFile, string? ServerName);

/// <param name="Matcher">Status codes counted healthy: "200", "200-299", "200,302".</param>
internal sealed record HealthCheckOptions(string Path, TimeSpan Interval, TimeSpan Timeout, int HealthyThreshold, int UnhealthyThreshold, string Matcher)
{
    public static HealthCheckOptions Default(string path) => new(path, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), 5, 2, "200");
}

/// <summary>The names of the mTLS headers, renamed by the listener attributes
/// <c>routing.http.request.x_amzn_mtls_clientcert*.header_name</c> (spec §1.5).</summary>
internal sealed record MtlsHeaderNames(string Clientcert, string SerialNumber, string Issuer, string Subject, string Validity, string Leaf)
{
    public static MtlsHeaderNames Default { get; } = new("X-Amzn-Mtls-Clientcert", "X-Amzn-Mtls-Clientcert-Serial-Number",
        "X-Amzn-Mtls-Clientcert-Issuer", "X-Amzn-Mtls-Clientcert-Subject", "X-Amzn-Mtls-Clientcert-Validity", "X-Amzn-Mtls-Clientcert-Leaf");

    /// <summary>The listener attribute behind each name, in the order of the record.</summary>
    public static readonly IReadOnlyList<string> AttributeKeys =
    [
        "routing.http.request.x_amzn_mtls_clientcert.header_name",
        "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name",
        "routing.http.request.x_amzn_mtls_clientcert_issuer.header_name",
        "routing.http.request.x_amzn_mtls_clientcert_subject.header_name",
        "routing.http.request.x_amzn_mtls_clientcert_validity.header_name",
        "routing.http.request.x_amzn_mtls_clientcert_leaf.header_name",
    ];

    public IEnumerable<string> All => [Clientcert, SerialNumber, Issuer, Subject, Validity, Leaf];

    /// <summary>Names from the attributes (an empty value keeps the default, as ALB's "Limitations" say).</summary>
    public static MtlsHeaderNames From(Func<string, string?> attribute)
    {
        var d = Default;
        string Pick(int i, string fallback) => attribute(AttributeKeys[i]) is { Length: > 0 } name ? name : fallback;
        return new(Pick(0, d.Clientcert), Pick(1, d.SerialNumber), Pick(2, d.Issuer), Pick(3, d.Subject), Pick(4, d.Validity), Pick(5, d.Leaf));
    }
}
