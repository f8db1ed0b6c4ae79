using Gatehouse.Proxy;
using System.Net;
using Gatehouse.Cluster;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Storage;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Cli.Configuration;

/// <summary>The validated configuration: where it came from, and the options each part of Gatehouse takes.</summary>
internal sealed record GatehouseConfig(string Source, ClusterOptions Cluster, ProxyOptions Proxy, TimeSpan UserCertTtl)
{
    public const string DefaultFileName = "gatehouse.yaml";

    /// <summary>
    /// Reads the given file; without one, ./gatehouse.yaml if present, else the embedded default (./gatehouse-data).
    /// Every problem is reported at once, each naming its key.
    /// </summary>
    public static GatehouseConfig Load(string? path)
    {
        ConfigFile file;
        IReadOnlyList<string> shapeErrors = [];
        string source, baseDirectory;
        if (path is null && !File.Exists(DefaultFileName))
        {
            file = new ConfigFile();
            source = "the embedded default";
            baseDirectory = Environment.CurrentDirectory;
        }
        else
        {
            path ??= DefaultFileName;
            source = Path.GetFullPath(path);
            baseDirectory = Path.GetDirectoryName(source)!;
            (file, shapeErrors) = Parse(source);
        }
        return Validate(file, shapeErrors, source, baseDirectory);
    }

    private static (ConfigFile File, IReadOnlyList<string> Errors) Parse(string path) => Parse<ConfigFile>(path, "docs/configuration.md");

    /// <summary>Reads one YAML document into <typeparamref name="T"/>'s shape; syntax errors stop here, shape errors are returned.</summary>
    internal static (T File, IReadOnlyList<string> Errors) Parse<T>(string path, string docs) where T : class, new()
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SetupException($"{path}: cannot read the configuration ({e.Message.TrimEnd('.')}).");
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message ?? e.Message;
            throw new SetupException($"{path}:{e.Start.Line}:{e.Start.Column}: {inner.TrimEnd('.')} — see {docs} for the keys.");
        }
        if (stream.Documents.Count > 1)
            throw new SetupException($"{path}:{stream.Documents[1].RootNode.Start.Line}: one configuration per file; remove the second document (after ---).");
        return ConfigBinder.Bind<T>(stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode);
    }

    private static GatehouseConfig Validate(ConfigFile file, IReadOnlyList<string> shapeErrors, string source, string baseDirectory)
    {
        var errors = new List<string>(shapeErrors);
        string Resolve(string p) => Path.GetFullPath(Path.Combine(baseDirectory, p));

        var cluster = file.ClusterName ?? ClusterOptions.DefaultClusterName;
        if (string.IsNullOrWhiteSpace(cluster) || cluster.Length > 64 || cluster.Any(char.IsControl))
            errors.Add("cluster_name: must be 1–64 characters without control characters");

        var algorithm = KeyAlgorithm.EcdsaP256;
        if (file.Pki?.KeyAlgorithm is { } name && !KeyAlgorithms.ByName.TryGetValue(name, out algorithm))
            errors.Add($"pki.key_algorithm: '{name}' is not one of {string.Join(", ", KeyAlgorithms.ByName.Keys)}");

        var ttl = CertificateIssuer.DefaultUserTtl;
        var ttlText = file.Pki?.UserCertTtl;
        var ttlOk = ttlText is null || Durations.TryParse(ttlText, out ttl);
        if (!ttlOk)
            errors.Add($"pki.user_cert_ttl: '{ttlText}' is not a duration like 12h or 30m");
        var maxTtl = CertificateIssuer.DefaultMaxUserTtl;
        var maxText = file.Pki?.MaxUserCertTtl;
        if (maxText is not null && !Durations.TryParse(maxText, out maxTtl))
            errors.Add($"pki.max_user_cert_ttl: '{maxText}' is not a duration like 12h or 30m");
        else if (ttlText is null && ttl > maxTtl)
            ttl = maxTtl; // the default lifetime follows a lower ceiling down
        else if (ttlOk && ttl > maxTtl)
            errors.Add($"pki.user_cert_ttl: {ttlText!.Trim()} is above pki.max_user_cert_ttl ({maxText?.Trim() ?? "12h by default"}), the ceiling on " +
                       "every user certificate; lower the one or raise the other");

        var depth = file.Pki?.MaxChainDepth ?? 4;
        if (depth is < 1 or > 10)
            errors.Add($"pki.max_chain_depth: {depth} is out of range (1–10; AWS ALB uses 4)");

        var listen = ProxyOptions.DefaultListen;
        if (file.Proxy?.Listen is { } listenText && !TryParseEndpoint(listenText, out listen))
            errors.Add($"proxy.listen: '{listenText}' is not an address:port like 127.0.0.1:3080 or 0.0.0.0:443");

        IPEndPoint? httpListen = null;
        if (file.Proxy?.HttpListen is { } httpText)
        {
            if (!TryParseEndpoint(httpText, out var parsed))
                errors.Add($"proxy.http_listen: '{httpText}' is not an address:port like 127.0.0.1:3081 or 0.0.0.0:3081");
            else if (parsed.Port == listen.Port && (parsed.Address.Equals(listen.Address) || parsed.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.Any)))
                errors.Add($"proxy.http_listen: {httpText} is the TLS port (proxy.listen); give the plain-HTTP listener a port of its own");
            else httpListen = parsed;
        }

        // Teleport writes public_addr as host:port; the port is the listener's (or the balancer's), the certificate needs the host.
        var publicAddresses = file.Proxy?.PublicAddr?.Select(WithoutPort).Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [.. ProxyOptions.DefaultPublicAddresses];
        if (publicAddresses.Count == 0)
            errors.Add("proxy.public_addr: give at least one host name or IP address clients use to reach the proxy");
        for (var i = 0; i < publicAddresses.Count; i++)
            if (!IPAddress.TryParse(publicAddresses[i], out _) && Uri.CheckHostName(publicAddresses[i]) != UriHostNameType.Dns)
                errors.Add($"proxy.public_addr[{i}]: '{publicAddresses[i]}' is neither a host name nor an IP address");

        var caFiles = (file.Trust?.ClientCaFiles ?? []).Select(Resolve).ToList();
        var crlFiles = (file.Trust?.CrlFiles ?? []).Select(Resolve).ToList();
        var revocation = RevocationConfig.Policies(file.Trust?.Revocation, Resolve, errors);

        var storage = StoreOptions.Default;
        switch (file.Storage?.Kind ?? "sqlite")
        {
            case "sqlite":
                if (file.Storage?.ConnectionString is not null)
                    errors.Add("storage.connection_string: only for kind postgres; SQLite takes storage.path");
                storage = new StoreOptions(StoreKind.Sqlite, file.Storage?.Path is { } sqlitePath ? Resolve(sqlitePath) : null);
                break;
            case "postgres":
                if (string.IsNullOrWhiteSpace(file.Storage?.ConnectionString))
                    errors.Add("storage.connection_string: required for kind postgres, e.g. \"Host=db;Database=gatehouse;Username=gatehouse;Password=…\"");
                if (file.Storage?.Path is not null)
                    errors.Add("storage.path: only for kind sqlite");
                storage = new StoreOptions(StoreKind.Postgres, ConnectionString: file.Storage?.ConnectionString);
                break;
            case var other:
                errors.Add($"storage.kind: '{other}' is not one of sqlite, postgres");
                break;
        }

        var fronts = FrontsConfig.Fronts(file.Proxy?.TrustedFronts, errors);
        var trustedProxies = FrontsConfig.Networks(file.Proxy?.TrustedProxies, "proxy.trusted_proxies", errors);
        var mappings = FrontsConfig.Mappings(file.IdentityMappings, errors);
        var sshNodes = ResourcesConfig.SshNodes(file.Resources?.SshNodes, errors);
        var tcpApps = ResourcesConfig.TcpApps(file.Resources?.TcpApps, errors);
        var httpApps = ResourcesConfig.HttpApps(file.Resources?.HttpApps, errors);
        var kubeClusters = ResourcesConfig.KubeClusters(file.Resources?.KubeClusters, Resolve, errors);
        var databases = DatabasesConfig.Databases(file.Resources?.Databases, Resolve, errors);
        var queryMaxLength = file.Audit?.DbQueryMaxLength ?? 4096;
        if (queryMaxLength is < 16 or > 1024 * 1024)
            errors.Add($"audit.db_query_max_length: {queryMaxLength} is out of range (16 to 1048576 bytes of a statement's text)");
        var kubeDefault = file.Proxy?.KubeDefault;
        if (kubeDefault is not null && !kubeClusters.Any(c => c.Name == kubeDefault) && !(file.Resources?.KubeClusters ?? []).Any(c => c.Name == kubeDefault))
            errors.Add($"proxy.kube_default: '{kubeDefault}' is not the name of one of resources.kube_clusters");
        var pingInterval = Gatehouse.Routing.ProxyProtocol.DefaultPingInterval;
        if (file.Proxy?.PingInterval is { } pingText && !Durations.TryParse(pingText, out pingInterval))
            errors.Add($"proxy.ping_interval: '{pingText}' is not a duration like 30s");

        var userCrlUrl = UserCrlUrl(file.Pki?.CrlUrl, publicAddresses, listen, errors);

        if (httpListen is not null && fronts.Count == 0 && trustedProxies.Count == 0)
            errors.Add("proxy.http_listen: accepts connections only from proxy.trusted_fronts[*].source_cidrs and proxy.trusted_proxies, and neither is set; " +
                       "name the balancer that forwards plain HTTP there");

        if (errors.Count > 0)
            throw new SetupException($"{source}: {errors.Count} problem(s) in the configuration:\n  " + string.Join("\n  ", errors));

        var clusterOptions = new ClusterOptions(cluster, Resolve(file.DataDir ?? ClusterOptions.DefaultDataDirectory), algorithm,
            new TrustOptions(caFiles, crlFiles) { Revocation = revocation }, new ValidationOptions(depth), Environment.GetEnvironmentVariable(MasterKey.EnvironmentVariable))
        {
            Storage = storage,
            AuditFile = file.Audit?.File is { } auditFile ? Resolve(auditFile) : null,
            MaxUserCertTtl = maxTtl,
            IdentityMappings = mappings,
            UserCrlUrl = userCrlUrl,
        };
        return new GatehouseConfig(source, clusterOptions, new ProxyOptions(listen, publicAddresses)
        {
            HttpListen = httpListen, TrustedFronts = fronts, TrustedProxies = trustedProxies, SshNodes = sshNodes, TcpApps = tcpApps, HttpApps = httpApps, PingInterval = pingInterval,
            KubeClusters = kubeClusters, KubeDefault = kubeDefault, Databases = databases, DbQueryAuditMaxLength = queryMaxLength,
        }, ttl);
    }

    /// <summary>pki.crl_url: off, an http(s) URL, or by default the proxy's own /v1/crl/user.crl at its first public
    /// address (with the listen port unless it is 443).</summary>
    private static Uri? UserCrlUrl(string? text, IReadOnlyList<string> publicAddresses, IPEndPoint? listen, List<string> errors)
    {
        if (text is not null)
        {
            if (text.Trim() == "off") return null;
            if (Uri.TryCreate(text.Trim(), UriKind.Absolute, out var configured) && configured.Scheme is "http" or "https" && configured.Host.Length > 0)
                return configured;
            errors.Add($"pki.crl_url: '{text}' is neither off nor an http(s) URL where the user CA's CRL is served");
            return null;
        }
        if (publicAddresses.Count == 0 || listen is null) return null; // both reported already
        var host = publicAddresses[0];
        if (IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) host = $"[{host}]";
        return Uri.TryCreate($"https://{host}{(listen.Port == 443 ? "" : $":{listen.Port}")}/v1/crl/user.crl", UriKind.Absolute, out var url) ? url : null;
    }

    /// <summary>gatehouse.example.com:443 → gatehouse.example.com, [::1]:3080 → ::1; anything else as written.</summary>
    private static string WithoutPort(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            return address;
        var host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) return host[1..^1];
        return host.Contains(':') ? address : host; // a bare IPv6 address ends in digits too
    }

    internal static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
            text = "127.0.0.1:" + text["localhost:".Length..];
        return IPEndPoint.TryParse(text, out endpoint!) && endpoint.Port > 0;
    }
}
