using YamlDotNet.Serialization;

// Keys that take a list also take one value (ConfigBinder); ConfigHint words what a key takes for the messages.

namespace Gatehouse.Cli.Configuration;

/// <summary>The YAML shape of gatehouse.yaml, as written by people; <see cref="GatehouseConfig"/> validates it.</summary>
internal sealed class ConfigFile
{
    [YamlMember(Alias = "cluster_name")] public string? ClusterName { get; set; }
    [YamlMember(Alias = "data_dir")] public string? DataDir { get; set; }
    [YamlMember(Alias = "pki")] public PkiSection? Pki { get; set; }
    [YamlMember(Alias = "proxy")] public ProxySection? Proxy { get; set; }
    [YamlMember(Alias = "trust")] public TrustSection? Trust { get; set; }
    [YamlMember(Alias = "storage")] public StorageSection? Storage { get; set; }
    [YamlMember(Alias = "audit")] public AuditSection? Audit { get; set; }
    [YamlMember(Alias = "identity_mappings")] public List<MappingSection>? IdentityMappings { get; set; }
    [YamlMember(Alias = "resources")] public ResourcesSection? Resources { get; set; }

    internal sealed class ResourcesSection
    {
        [YamlMember(Alias = "ssh_nodes")] public List<SshNodeSection>? SshNodes { get; set; }
        [YamlMember(Alias = "tcp_apps")] public List<TcpAppSection>? TcpApps { get; set; }
        [YamlMember(Alias = "http_apps")] public List<HttpAppSection>? HttpApps { get; set; }
        [YamlMember(Alias = "kube_clusters")] public List<KubeClusterSection>? KubeClusters { get; set; }
        [YamlMember(Alias = "databases")] public List<DatabaseSection>? Databases { get; set; }
    }

    internal sealed class DatabaseSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [YamlMember(Alias = "protocol")] public string? Protocol { get; set; }
        [YamlMember(Alias = "addr")] public string? Addr { get; set; }
        [YamlMember(Alias = "labels")] public Dictionary<string, string>? Labels { get; set; }
        [YamlMember(Alias = "tls")] public DatabaseTlsSection? Tls { get; set; }
        [YamlMember(Alias = "auth")] public DatabaseAuthSection? Auth { get; set; }
        [YamlMember(Alias = "audit_queries")] public bool? AuditQueries { get; set; }
    }

    internal sealed class DatabaseTlsSection
    {
        [YamlMember(Alias = "mode")] public string? Mode { get; set; }
        [YamlMember(Alias = "ca_file")] public string? CaFile { get; set; }
        [YamlMember(Alias = "server_name")] public string? ServerName { get; set; }
    }

    internal sealed class DatabaseAuthSection
    {
        [YamlMember(Alias = "kind")] public string? Kind { get; set; }
        [YamlMember(Alias = "user")] public string? User { get; set; }
        [YamlMember(Alias = "password_env")] public string? PasswordEnv { get; set; }
        [YamlMember(Alias = "password_file")] public string? PasswordFile { get; set; }
    }

    internal sealed class KubeClusterSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [YamlMember(Alias = "api_server")] public string? ApiServer { get; set; }
        [YamlMember(Alias = "ca_file")] public string? CaFile { get; set; }
        [YamlMember(Alias = "token_file")] public string? TokenFile { get; set; }
        [YamlMember(Alias = "client_cert_file")] public string? ClientCertFile { get; set; }
        [YamlMember(Alias = "client_key_file")] public string? ClientKeyFile { get; set; }
        [ConfigHint("labels", "{ env: prod }")] [YamlMember(Alias = "labels")] public Dictionary<string, string>? Labels { get; set; }
    }

    internal sealed class HttpAppSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [YamlMember(Alias = "uri")] public string? Uri { get; set; }
        [YamlMember(Alias = "public_host")] public string? PublicHost { get; set; }
        [ConfigHint("labels", "{ env: prod }")] [YamlMember(Alias = "labels")] public Dictionary<string, string>? Labels { get; set; }
        [YamlMember(Alias = "rewrite_redirects")] public bool? RewriteRedirects { get; set; }
    }

    internal sealed class SshNodeSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [ConfigHint("host:port", "10.0.0.5:22")] [YamlMember(Alias = "addr")] public string? Addr { get; set; }
        [ConfigHint("labels", "{ env: prod }")] [YamlMember(Alias = "labels")] public Dictionary<string, string>? Labels { get; set; }
    }

    internal sealed class TcpAppSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [ConfigHint("host:port", "10.0.0.5:22")] [YamlMember(Alias = "addr")] public string? Addr { get; set; }
        [ConfigHint("labels", "{ env: prod }")] [YamlMember(Alias = "labels")] public Dictionary<string, string>? Labels { get; set; }
    }

    internal sealed class MappingSection
    {
        [YamlMember(Alias = "issuer")] public string? Issuer { get; set; }
        [YamlMember(Alias = "san_email")] public string? SanEmail { get; set; }
        [YamlMember(Alias = "san_dns")] public string? SanDns { get; set; }
        [YamlMember(Alias = "san_uri")] public string? SanUri { get; set; }
        [YamlMember(Alias = "subject_cn")] public string? SubjectCn { get; set; }
        [YamlMember(Alias = "user")] public string? User { get; set; }
        [ConfigHint("a role or a list of them", "[dev]")] [YamlMember(Alias = "roles")] public List<string>? Roles { get; set; }
    }

    internal sealed class FrontSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [YamlMember(Alias = "format")] public string? Format { get; set; }
        [ConfigHint("a network or a list of them", "[10.0.0.0/16]")] [YamlMember(Alias = "source_cidrs")] public List<string>? SourceCidrs { get; set; }
        [YamlMember(Alias = "headers")] public Dictionary<string, string>? Headers { get; set; }
        [YamlMember(Alias = "shared_secret_header")] public SecretSection? SharedSecretHeader { get; set; }
        [YamlMember(Alias = "bind_tunnel_identity")] public string? BindTunnelIdentity { get; set; }
    }

    internal sealed class SecretSection
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [YamlMember(Alias = "value_env")] public string? ValueEnv { get; set; }
    }

    internal sealed class StorageSection
    {
        [YamlMember(Alias = "kind")] public string? Kind { get; set; }
        [YamlMember(Alias = "path")] public string? Path { get; set; }
        [YamlMember(Alias = "connection_string")] public string? ConnectionString { get; set; }
    }

    internal sealed class AuditSection
    {
        [YamlMember(Alias = "file")] public string? File { get; set; }
        [YamlMember(Alias = "db_query_max_length")] public int? DbQueryMaxLength { get; set; }
    }

    internal sealed class PkiSection
    {
        [YamlMember(Alias = "key_algorithm")] public string? KeyAlgorithm { get; set; }
        [YamlMember(Alias = "user_cert_ttl")] public string? UserCertTtl { get; set; }
        [YamlMember(Alias = "max_user_cert_ttl")] public string? MaxUserCertTtl { get; set; }
        [ConfigHint("a whole number", "4")] [YamlMember(Alias = "max_chain_depth")] public int? MaxChainDepth { get; set; }
        [YamlMember(Alias = "crl_url")] public string? CrlUrl { get; set; }
    }

    internal sealed class ProxySection
    {
        [ConfigHint("an address:port", "127.0.0.1:3080")] [YamlMember(Alias = "listen")] public string? Listen { get; set; }
        [ConfigHint("an address:port", "0.0.0.0:3081")] [YamlMember(Alias = "http_listen")] public string? HttpListen { get; set; }
        [ConfigHint("a host name or a list of them", "[gatehouse.example.com]")] [YamlMember(Alias = "public_addr")] public List<string>? PublicAddr { get; set; }
        [ConfigHint("a network or a list of them", "[10.0.0.0/16]")] [YamlMember(Alias = "trusted_proxies")] public List<string>? TrustedProxies { get; set; }
        [YamlMember(Alias = "ping_interval")] public string? PingInterval { get; set; }
        [YamlMember(Alias = "kube_default")] public string? KubeDefault { get; set; }
        [YamlMember(Alias = "trusted_fronts")] public List<FrontSection>? TrustedFronts { get; set; }
    }

    internal sealed class TrustSection
    {
        [ConfigHint("a file or a list of them", "[corp-root.pem]")] [YamlMember(Alias = "client_ca_files")] public List<string>? ClientCaFiles { get; set; }
        [ConfigHint("a file or a list of them", "[corp.crl]")] [YamlMember(Alias = "crl_files")] public List<string>? CrlFiles { get; set; }
        [YamlMember(Alias = "revocation")] public List<RevocationSection>? Revocation { get; set; }
    }

    internal sealed class RevocationSection
    {
        [YamlMember(Alias = "ca")] public string? Ca { get; set; }
        [YamlMember(Alias = "crl_files")] public List<string>? CrlFiles { get; set; }
        [YamlMember(Alias = "crl_urls")] public List<string>? CrlUrls { get; set; }
        [YamlMember(Alias = "crl_distribution_points")] public bool? CrlDistributionPoints { get; set; }
        [YamlMember(Alias = "on_unknown")] public string? OnUnknown { get; set; }
        [YamlMember(Alias = "on_stale")] public string? OnStale { get; set; }
        [YamlMember(Alias = "stale_grace")] public string? StaleGrace { get; set; }
        [YamlMember(Alias = "refresh")] public string? Refresh { get; set; }
        [YamlMember(Alias = "ocsp")] public string? Ocsp { get; set; }
    }
}
