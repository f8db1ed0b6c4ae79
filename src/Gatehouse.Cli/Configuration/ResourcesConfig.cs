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
}
