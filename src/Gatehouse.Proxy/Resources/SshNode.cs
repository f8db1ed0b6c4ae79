namespace Gatehouse.Proxy.Resources;

/// <summary>An OpenSSH server reached through <c>gatehouse-ssh</c> (resources.ssh_nodes). Agentless: the proxy relays the
/// SSH bytes to <see cref="Host"/>:<see cref="Port"/> and never terminates SSH; the node's sshd trusts the cluster's
/// SSH user CA and presents a host certificate from its SSH host CA.</summary>
internal sealed record SshNode(string Name, string Host, int Port, IReadOnlyDictionary<string, string> Labels)
{
    public string Address => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>The audit resource name.</summary>
    public string Resource => $"node:{Name}";
}
