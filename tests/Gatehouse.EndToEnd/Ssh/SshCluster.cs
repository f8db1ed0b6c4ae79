using System.Globalization;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Ssh;

[CollectionDefinition(Name)]
public sealed class SshCollection : ICollectionFixture<SshCluster>
{
    public const string Name = "Ssh";
}

/// <summary>
/// A real OpenSSH sshd on a loopback port that trusts the cluster's SSH user CA, registered as node <c>node1</c>
/// (env: dev) and, for refusals, <c>prod1</c> (env: prod, the same sshd); a Gatehouse proxy in front; and nginx as a
/// layer-7 balancer without mutual TLS (<see cref="PlainBalancer"/>), through which SSH goes in a WebSocket tunnel.
/// Role dev allows env: dev nodes as root; alice has dev and a certificate that carries login root.
/// </summary>
public sealed class SshCluster : IAsyncLifetime
{
    internal ProxyUnderTest Proxy { get; private set; } = null!;
    internal SshdPeer Sshd { get; private set; } = null!;
    internal PlainBalancer Balancer { get; private set; } = null!;
    internal HaproxyPeer Haproxy { get; private set; } = null!;

    /// <summary>HOST:PORT of HAProxy in mode http in front of the proxy (a second layer-7 balancer).</summary>
    public string HaproxyAddress { get; private set; } = "";

    /// <summary>The CA of HAProxy's server certificate.</summary>
    public string HaproxyCa { get; private set; } = "";
    internal IssuedCertificate Alice { get; private set; } = null!;

    public string HostCa { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var sshdPort = Peer.FreePort();
        Proxy = await ProxyUnderTest.CreateAsync("ssh-cluster", $$"""
            resources:
              ssh_nodes:
                - name: node1
                  addr: 127.0.0.1:{{sshdPort}}
                  labels: { env: dev }
                - name: prod1
                  addr: 127.0.0.1:{{sshdPort}}
                  labels: { env: prod }
            """);
        await Proxy.StartProxyAsync();
        var sshUserCa = Proxy.File("ssh-user-ca.pub");
        (await Proxy.Admin.RunAsync("admin", "ca", "export", "--kind", "ssh-user", "--out", sshUserCa)).EnsureSuccess("ca export --kind ssh-user");
        Sshd = await SshdPeer.StartAsync(sshUserCa, sshdPort);
        await Proxy.ApplyRoleAsync("dev", """
            allow:
              node_labels: { env: dev }
              logins: [root]
            """);
        HostCa = await Proxy.ExportHostCaAsync();
        Alice = await Proxy.IssueAsync("alice", "--roles", "dev", "--logins", "root");
        Balancer = await PlainBalancer.StartAsync(Proxy.Port, HostCa);

        var haproxyCa = await OpensslCa.RootAsync(Proxy.Directory, "haproxy-ca", "/O=Balancers/CN=SSH HAProxy CA");
        HaproxyCa = haproxyCa.Certificate;
        var (cert, key) = await haproxyCa.ServerAsync("haproxy-server");
        var combined = Proxy.File("haproxy-combined.pem");
        await File.WriteAllTextAsync(combined, await File.ReadAllTextAsync(cert) + await File.ReadAllTextAsync(key));
        var haproxyPort = Peer.FreePort();
        HaproxyAddress = $"127.0.0.1:{haproxyPort}";
        Haproxy = await HaproxyPeer.StartAsync(_ => Task.FromResult($$"""
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 30s
                timeout tunnel 1h

            frontend https
                bind 127.0.0.1:{{haproxyPort}} ssl crt {{combined}} alpn http/1.1
                option forwardfor
                default_backend gatehouse

            backend gatehouse
                server gatehouse 127.0.0.1:{{Proxy.Port}} ssl verify required ca-file {{HostCa}} verifyhost gatehouse.internal sni str(gatehouse.internal)
            """), haproxyPort);
    }

    /// <summary>A client logged in as alice at <paramref name="address"/> (the proxy, or the balancer: then through it).</summary>
    internal async Task<ClientMachine> AliceAtAsync(string address)
    {
        var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = address == HaproxyAddress ? HaproxyCa : Balancer.Ca });
        (await client.Cli.RunAsync("login", "--proxy", address, "--identity", Alice.Directory, "--ca", HostCa)).EnsureSuccess($"login --identity at {address}");
        return client;
    }

    /// <summary>Plain OpenSSH with <c>gatehouse proxy ssh</c> as its ProxyCommand and the profile's key and certificate.</summary>
    internal static Task<ProcessResult> PlainSshAsync(ClientMachine client, string address, string destination, params string[] command) =>
        Peer.RunAsync("ssh", [.. OpenSshOptions(client, address), destination, .. command], timeout: TimeSpan.FromSeconds(60),
            environment: OpenSshEnvironment(client));

    /// <summary>The options ssh, scp and sftp share here: no config file but these, the profile's key and certificate,
    /// gatehouse as the ProxyCommand, batch mode.</summary>
    internal static string[] OpenSshOptions(ClientMachine client, string address)
    {
        var profile = client.ProfileOf(address);
        return
        [
            "-F", "/dev/null",
            "-i", Path.Combine(profile, "ssh-key"),
            "-o", $"CertificateFile={Path.Combine(profile, "ssh-cert.pub")}",
            "-o", "IdentitiesOnly=yes",
            "-o", $"ProxyCommand=dotnet {GatehouseCli.Dll} proxy ssh --proxy {address} %r@%h:%p",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=30",
        ];
    }

    /// <summary>The client machine's environment for OpenSSH, which passes it on to the ProxyCommand.</summary>
    internal static Dictionary<string, string> OpenSshEnvironment(ClientMachine client) => new(client.Environment) { ["GATEHOUSE_MASTER_KEY"] = "" };

    public async Task DisposeAsync()
    {
        if (Haproxy is not null) await Haproxy.DisposeAsync();
        if (Balancer is not null) await Balancer.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        if (Sshd is not null) await Sshd.DisposeAsync();
    }
}
