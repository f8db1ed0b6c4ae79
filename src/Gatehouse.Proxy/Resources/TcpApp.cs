namespace Gatehouse.Proxy.Resources;

/// <summary>A TCP service reached with ALPN gatehouse-tcp and a dial frame naming it (resources.tcp_apps[i]); roles'
/// app_labels decide who may.</summary>
internal sealed record TcpApp(string Name, string Host, int Port, IReadOnlyDictionary<string, string> Labels)
{
    public string Address => $"{Host}:{Port}";
}
