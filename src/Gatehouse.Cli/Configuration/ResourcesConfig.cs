using System.Globalization;
using Gatehouse.Proxy.Apps;

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
            string host = "";
            var port = 0;
            var colon = section.Addr?.LastIndexOf(':') ?? -1;
            if (section.Addr is null || colon <= 0 || !int.TryParse(section.Addr[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port)
                || port is < 1 or > 65535)
                errors.Add($"{key}.addr: '{section.Addr}' is not host:port, e.g. 10.1.2.3:5432 or db.internal:6379");
            else host = section.Addr[..colon].Trim('[', ']');
            if (errors.Count == before)
                apps.Add(new TcpApp(section.Name!, host, port, section.Labels ?? []));
        }
        return apps;
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
            if (string.IsNullOrEmpty(section.Name) || Uri.CheckHostName(section.Name) != UriHostNameType.Dns || section.Name.Contains('.'))
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
}
