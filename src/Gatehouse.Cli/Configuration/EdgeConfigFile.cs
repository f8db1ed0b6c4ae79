using YamlDotNet.Serialization;

namespace Gatehouse.Cli.Configuration;

/// <summary>The YAML shape of edge.yaml (<c>gatehouse edge --config</c>), as written by people; <see cref="EdgeConfig"/> validates it.
/// Names follow the ALB's API and attributes, so an ALB's settings carry over (docs/edge.md).</summary>
internal sealed class EdgeConfigFile
{
    [YamlMember(Alias = "name")] public string? Name { get; set; }

    [ConfigHint("load-balancer attributes", "{ idle_timeout.timeout_seconds: \"60\", routing.http.xff_header_processing.mode: append }")]
    [YamlMember(Alias = "attributes")] public Dictionary<string, string>? Attributes { get; set; }

    [YamlMember(Alias = "logs")] public LogsSection? Logs { get; set; }
    [YamlMember(Alias = "listeners")] public List<ListenerSection>? Listeners { get; set; }
    [YamlMember(Alias = "target_groups")] public List<TargetGroupSection>? TargetGroups { get; set; }

    internal sealed class LogsSection
    {
        [ConfigHint("stdout or a file path", "stdout")] [YamlMember(Alias = "connection")] public string? Connection { get; set; }
        [ConfigHint("stdout or a file path", "/var/log/edge/access.log")] [YamlMember(Alias = "access")] public string? Access { get; set; }
    }

    internal sealed class ListenerSection
    {
        [ConfigHint("address:port", "0.0.0.0:443")] [YamlMember(Alias = "listen")] public string? Listen { get; set; }
        [YamlMember(Alias = "certificate")] public CertificateSection? Certificate { get; set; }
        [YamlMember(Alias = "mutual_authentication")] public MutualAuthenticationSection? MutualAuthentication { get; set; }

        [ConfigHint("listener attributes", "{ routing.http.request.x_amzn_mtls_clientcert.header_name: X-Client-Cert }")]
        [YamlMember(Alias = "attributes")] public Dictionary<string, string>? Attributes { get; set; }

        [YamlMember(Alias = "rules")] public List<RuleSection>? Rules { get; set; }
        [YamlMember(Alias = "default_target_group")] public string? DefaultTargetGroup { get; set; }
    }

    internal sealed class CertificateSection
    {
        [YamlMember(Alias = "cert_file")] public string? CertFile { get; set; }
        [YamlMember(Alias = "key_file")] public string? KeyFile { get; set; }
    }

    internal sealed class MutualAuthenticationSection
    {
        [ConfigHint("off, passthrough or verify", "verify")] [YamlMember(Alias = "mode")] public string? Mode { get; set; }
        [YamlMember(Alias = "trust_store")] public TrustStoreSection? TrustStore { get; set; }
        [YamlMember(Alias = "ignore_client_certificate_expiry")] public bool? IgnoreClientCertificateExpiry { get; set; }
        [ConfigHint("on or off", "on")] [YamlMember(Alias = "advertise_trust_store_ca_names")] public string? AdvertiseTrustStoreCaNames { get; set; }
    }

    internal sealed class TrustStoreSection
    {
        [YamlMember(Alias = "ca_bundle")] public string? CaBundle { get; set; }
        [YamlMember(Alias = "crls")] public List<string>? Crls { get; set; }
    }

    internal sealed class RuleSection
    {
        [ConfigHint("a host pattern", "\"*.example.com\"")] [YamlMember(Alias = "host")] public string? Host { get; set; }
        [ConfigHint("a path pattern", "\"/api/*\"")] [YamlMember(Alias = "path")] public string? Path { get; set; }
        [YamlMember(Alias = "target_group")] public string? TargetGroup { get; set; }
    }

    internal sealed class TargetGroupSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [ConfigHint("HTTP or HTTPS", "HTTPS")] [YamlMember(Alias = "protocol")] public string? Protocol { get; set; }
        [ConfigHint("host:port targets", "[10.0.1.5:3080, 10.0.1.6:3080]")] [YamlMember(Alias = "targets")] public List<string>? Targets { get; set; }
        [YamlMember(Alias = "tls")] public TargetTlsSection? Tls { get; set; }
        [YamlMember(Alias = "health_check")] public HealthCheckSection? HealthCheck { get; set; }
    }

    internal sealed class TargetTlsSection
    {
        [YamlMember(Alias = "ca_file")] public string? CaFile { get; set; }
        [YamlMember(Alias = "server_name")] public string? ServerName { get; set; }
    }

    internal sealed class HealthCheckSection
    {
        [YamlMember(Alias = "path")] public string? Path { get; set; }
        [ConfigHint("a duration", "10s")] [YamlMember(Alias = "interval")] public string? Interval { get; set; }
        [ConfigHint("a duration", "5s")] [YamlMember(Alias = "timeout")] public string? Timeout { get; set; }
        [YamlMember(Alias = "healthy_threshold")] public int? HealthyThreshold { get; set; }
        [YamlMember(Alias = "unhealthy_threshold")] public int? UnhealthyThreshold { get; set; }
        [ConfigHint("status codes", "\"200-299\"")] [YamlMember(Alias = "matcher")] public string? Matcher { get; set; }
    }
}
