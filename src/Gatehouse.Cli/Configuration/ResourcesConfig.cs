using Gatehouse.Proxy.Resources;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Apps;
using Gatehouse.Proxy.Kube;

namespace Gatehouse.Cli.Configuration;

/// <summary>Validates resources.* (the services the proxy reaches), adding one error per problem.</summary>
internal static class ResourcesConfig
{
    public static IReadOnlyList<TcpApp> TcpApps(List<ConfigFile.TcpAppSection>? sections, List<string> errors)
    {
        var apps = new List<TcpApp>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"resources.tcp_apps[{i}]";
            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(section.Name) || section.Name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                errors.Add($"{key}.name: required, without spaces (clients dial it by this name)");
            else if (!names.Add(section.Name)) errors.Add($"{key}.name: '{section.Name}' is used by another TCP app");
            var (host, port) = Address($"{key}.addr", section.Addr, "e.g. 10.1.2.3:5432 or db.internal:6379", errors);
            if (errors.Count == before)
                apps.Add(new TcpApp(section.Name!, host, port, section.Labels ?? []));
        }
        return apps;
    }

    public static IReadOnlyList<SshNode> SshNodes(List<ConfigFile.SshNodeSection>? sections, List<string> errors)
    {
        var nodes = new List<SshNode>();
        // Host names: node1 and NODE1 are one name to ssh, so they are one to us (the service looks nodes up the same way).
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"resources.ssh_nodes[{i}]";
            var before = errors.Count;
            // One DNS label: users reach it as NAME.<cluster> with the generated ssh_config (gatehouse config ssh).
            if (string.IsNullOrEmpty(section.Name) || !IsDnsLabel(section.Name))
                errors.Add($"{key}.name: '{section.Name}' must be one DNS label (letters, digits, '-'): users reach it as NAME or NAME.<cluster>");
            else if (!names.Add(section.Name)) errors.Add($"{key}.name: '{section.Name}' is used by another SSH node");
            var (host, port) = Address($"{key}.addr", section.Addr, "e.g. 10.1.2.3:22 or node1.internal:22", errors);
            if (errors.Count == before)
                nodes.Add(new SshNode(section.Name!, host, port, section.Labels ?? []));
        }
        return nodes;
    }

    /// <summary>One DNS label, as resource names that become host names must be.</summary>
    internal static bool IsDnsLabel(string name) => Uri.CheckHostName(name) == UriHostNameType.Dns && !name.Contains('.');

    /// <summary>host:port (an IPv6 host in brackets), or an error for <paramref name="key"/>.</summary>
    internal static (string Host, int Port) Address(string key, string? addr, string example, List<string> errors)
    {
        var colon = addr?.LastIndexOf(':') ?? -1;
        if (addr is null || colon <= 0 || !int.TryParse(addr[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            errors.Add($"{key}: '{addr}' is not host:port, {example}");
            return ("", 0);
        }
        return (addr[..colon].Trim('[', ']'), port);
    }

    public static IReadOnlyList<HttpApp> HttpApps(List<ConfigFile.HttpAppSection>? sections, List<string> errors)
    {
        var apps = new List<HttpApp>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"resources.http_apps[{i}]";
            var before = errors.Count;
            // The name is a DNS label (NAME.<public host>) and a path segment (/apps/NAME/), so it must be both.
            if (string.IsNullOrEmpty(section.Name) || !IsDnsLabel(section.Name))
                errors.Add($"{key}.name: '{section.Name}' must be one DNS label (letters, digits, '-'): it is the host NAME.<public host> and the path /apps/NAME/");
            else if (!names.Add(section.Name)) errors.Add($"{key}.name: '{section.Name}' is used by another HTTP app");
            Uri? uri = null;
            if (section.Uri is null || !Uri.TryCreate(section.Uri, UriKind.Absolute, out uri) || uri.Scheme is not ("http" or "https")
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                errors.Add($"{key}.uri: '{section.Uri}' is not an http:// or https:// URL without query, e.g. http://127.0.0.1:8080 or https://grafana.internal/");
            if (section.PublicHost is { } publicHost)
            {
                if (Uri.CheckHostName(publicHost) != UriHostNameType.Dns)
                    errors.Add($"{key}.public_host: '{publicHost}' is not a DNS name, e.g. grafana.example.com");
                else if (!hosts.Add(publicHost)) errors.Add($"{key}.public_host: '{publicHost}' is used by another HTTP app");
            }
            if (errors.Count == before)
                apps.Add(new HttpApp(section.Name!, uri!, section.PublicHost, section.Labels ?? [], section.RewriteRedirects ?? false));
        }
        return apps;
    }

    /// <summary>resources.kube_clusters: the files (CA, token or client certificate) are read now, so that a missing or
    /// unreadable one stops the start with the key that names it rather than failing the first kubectl call.</summary>
    public static IReadOnlyList<KubeCluster> KubeClusters(List<ConfigFile.KubeClusterSection>? sections, Func<string, string> resolve, List<string> errors)
    {
        var clusters = new List<KubeCluster>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"resources.kube_clusters[{i}]";
            var before = errors.Count;
            // The name is a path segment (/kube/NAME/) and, for kube login, a kubeconfig context: one DNS label keeps both simple.
            if (string.IsNullOrEmpty(section.Name) || !IsDnsLabel(section.Name))
                errors.Add($"{key}.name: '{section.Name}' must be one DNS label (letters, digits, '-'): it is the path /kube/NAME/");
            else if (!names.Add(section.Name)) errors.Add($"{key}.name: '{section.Name}' is used by another kube cluster");
            Uri? apiServer = null;
            if (section.ApiServer is null || !Uri.TryCreate(section.ApiServer, UriKind.Absolute, out apiServer) || apiServer.Scheme != "https"
                || !string.IsNullOrEmpty(apiServer.Query) || !string.IsNullOrEmpty(apiServer.Fragment))
                errors.Add($"{key}.api_server: '{section.ApiServer}' is not an https:// URL, e.g. https://10.0.0.1:6443");

            var caCertificates = new X509Certificate2Collection();
            if (string.IsNullOrEmpty(section.CaFile))
                errors.Add($"{key}.ca_file: required: the CA (PEM) the API server's certificate chains to; only it is trusted");
            else
            {
                try
                {
                    caCertificates.ImportFromPemFile(resolve(section.CaFile));
                    if (caCertificates.Count == 0) errors.Add($"{key}.ca_file: {section.CaFile} holds no PEM certificate");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
                {
                    errors.Add($"{key}.ca_file: cannot read {section.CaFile}: {e.Message}");
                }
            }

            string? token = null;
            X509Certificate2? clientCertificate = null;
            var byCertificate = section.ClientCertFile is not null || section.ClientKeyFile is not null;
            if (section.TokenFile is not null && byCertificate)
                errors.Add($"{key}: give token_file or client_cert_file + client_key_file, not both");
            else if (section.TokenFile is { } tokenFile)
            {
                try
                {
                    token = File.ReadAllText(resolve(tokenFile)).Trim();
                    if (token.Length == 0 || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                        errors.Add($"{key}.token_file: {tokenFile} must hold one bearer token (no spaces or line breaks inside)");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    errors.Add($"{key}.token_file: cannot read {tokenFile}: {e.Message}");
                }
            }
            else if (byCertificate)
            {
                if (section.ClientCertFile is null || section.ClientKeyFile is null)
                    errors.Add($"{key}.{(section.ClientCertFile is null ? "client_cert_file" : "client_key_file")}: required with " +
                               $"{(section.ClientCertFile is null ? "client_key_file" : "client_cert_file")}");
                else
                {
                    try
                    {
                        clientCertificate = X509Certificate2.CreateFromPemFile(resolve(section.ClientCertFile), resolve(section.ClientKeyFile));
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
                    {
                        errors.Add($"{key}.client_cert_file: cannot load {section.ClientCertFile} with key {section.ClientKeyFile}: {e.Message}");
                    }
                }
            }
            else errors.Add($"{key}: give the proxy's credentials for the API server: token_file, or client_cert_file + client_key_file");

            if (errors.Count == before)
                clusters.Add(new KubeCluster(section.Name!, apiServer!, section.Labels ?? [], caCertificates, token, clientCertificate));
        }
        return clusters;
    }
}
