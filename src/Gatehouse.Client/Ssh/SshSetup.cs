using System.Text.Json;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.LocalProxies;
using Gatehouse.Client.Profiles;
using Gatehouse.Storage;

namespace Gatehouse.Client.Ssh;

/// <summary>An SSH node as <c>GET /v1/nodes</c> lists it: one the user may reach, and the logins they may use there.</summary>
internal sealed record NodeListing(string Name, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<string> Logins);

/// <summary>
/// What plain OpenSSH needs to go through Gatehouse: the profile's key and certificate, <c>gatehouse proxy ssh</c> as the
/// ProxyCommand, and a known_hosts file that trusts nodes by the cluster's SSH host CA (an <c>@cert-authority</c> line,
/// never trust on first use). The line comes from the proxy over the dialer's TLS, which is checked against the cluster's
/// host CA, so a balancer in front cannot replace it.
/// </summary>
internal sealed class SshSetup(ProxyDialer dialer, string profileDirectory, string gatehouseCommand)
{
    public const string KnownHostsFile = "ssh_known_hosts";

    public string KeyFile => Path.Combine(profileDirectory, IdentityFiles.SshKey);
    public string CertificateFile => Path.Combine(profileDirectory, IdentityFiles.SshCertificate);
    public string KnownHosts => Path.Combine(profileDirectory, KnownHostsFile);

    /// <summary>The ProxyCommand line (ssh expands %r, %h and %p).</summary>
    public string ProxyCommand => $"{gatehouseCommand} proxy ssh --proxy {dialer.Options.Proxy} %r@%h:%p";

    /// <summary>Fetches the cluster's <c>@cert-authority</c> line into <see cref="KnownHosts"/> (atomically); null, or the
    /// sentence why it could not.</summary>
    public async Task<string?> RefreshKnownHostsAsync(CancellationToken cancellationToken)
    {
        var (text, error) = await WebSideClient.GetTextAsync(dialer, "v1/ssh/known_hosts", cancellationToken);
        if (text is null) return $"could not get the cluster's SSH host CA from {dialer.Options.Proxy}: {error}";
        if (!text.StartsWith("@cert-authority ", StringComparison.Ordinal))
            return $"{dialer.Options.Proxy} answered /v1/ssh/known_hosts with something other than an @cert-authority line";
        AtomicFile.Write(KnownHosts, text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n");
        return null;
    }

    /// <summary>The nodes the user may reach, from the proxy; null with the sentence when it cannot say.</summary>
    public async Task<(IReadOnlyList<NodeListing>? Nodes, string? Error)> ListNodesAsync(CancellationToken cancellationToken)
    {
        var (text, error) = await WebSideClient.GetTextAsync(dialer, "v1/nodes", cancellationToken);
        if (text is null) return (null, $"could not list the nodes at {dialer.Options.Proxy}: {error}");
        try
        {
            using var json = JsonDocument.Parse(text);
            return ([.. json.RootElement.GetProperty("nodes").EnumerateArray().Select(n => new NodeListing(
                n.GetProperty("name").GetString()!,
                n.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                [.. n.GetProperty("logins").EnumerateArray().Select(l => l.GetString()!)]))], null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, $"{dialer.Options.Proxy} answered /v1/nodes with something this client cannot read ({e.Message})");
        }
    }

    /// <summary>The arguments for <c>ssh</c>: every option it needs, then <paramref name="extra"/> (forwardings, -t, -A), the
    /// destination and the remote command.</summary>
    public IReadOnlyList<string> SshArguments(string login, string node, IEnumerable<string> extra, IEnumerable<string> command) =>
    [
        "-i", KeyFile,
        "-o", $"CertificateFile={CertificateFile}",
        "-o", "IdentitiesOnly=yes",
        "-o", $"ProxyCommand={ProxyCommand}",
        "-o", $"UserKnownHostsFile={KnownHosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "StrictHostKeyChecking=yes",
        .. extra,
        "-l", login,
        node,
        .. command,
    ];

    /// <summary>An ssh_config block that makes plain <c>ssh NODE.CLUSTER</c> (and scp, sftp) go through Gatehouse.</summary>
    public string ConfigBlock(string clusterName) => $"""
        # Gatehouse cluster {clusterName} at {dialer.Options.Proxy} (gatehouse config ssh)
        Host *.{clusterName}
            ProxyCommand {ProxyCommand}
            IdentityFile "{KeyFile}"
            CertificateFile "{CertificateFile}"
            IdentitiesOnly yes
            UserKnownHostsFile "{KnownHosts}"
            StrictHostKeyChecking yes

        """;
}
