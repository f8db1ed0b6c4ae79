using System.Globalization;

namespace Gatehouse.Testing;

/// <summary>
/// A real OpenSSH sshd on a free loopback port that trusts the given user CA keys (TrustedUserCAKeys) and nothing
/// else: no authorized_keys, no passwords. Stopped by PID on dispose.
/// </summary>
internal sealed class SshdPeer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private BackgroundProcess? _sshd;

    private SshdPeer() { }

    public int Port { get; private init; } = Peer.FreePort();

    public string Output => _sshd?.Output ?? "";

    /// <param name="port">A port chosen before (a proxy's configuration names the node's address); default: a free one.</param>
    public static async Task<SshdPeer> StartAsync(string trustedUserCaKeysFile, int? port = null)
    {
        var peer = port is { } chosen ? new SshdPeer { Port = chosen } : new SshdPeer();
        var sshd = Peer.Require("sshd"); // absolute path: sshd re-executes itself and refuses a relative one
        var hostKey = peer._dir.File("ssh_host_ed25519_key");
        (await Peer.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey)).EnsureSuccess("ssh-keygen host key");
        var config = peer._dir.File("sshd_config");
        await File.WriteAllLinesAsync(config,
        [
            "ListenAddress 127.0.0.1",
            $"HostKey {hostKey}",
            $"PidFile {peer._dir.File("sshd.pid")}",
            $"TrustedUserCAKeys {trustedUserCaKeysFile}",
            "AuthorizedKeysFile none",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin yes", // the tests run as root
            "StrictModes no",
            "UsePAM no",
            "Subsystem sftp internal-sftp", // scp uses SFTP since OpenSSH 9
            "LogLevel VERBOSE", // logs why a certificate was refused
        ]);
        // sshd's privilege-separation directory; a fresh container does not have it.
        Directory.CreateDirectory("/run/sshd");
        peer._sshd = BackgroundProcess.Start(sshd, ["-D", "-e", "-f", config, "-p", peer.Port.ToString(CultureInfo.InvariantCulture)]);
        await Peer.WaitForPortAsync(peer.Port, TimeSpan.FromSeconds(15), () => "sshd output:\n" + peer._sshd.Output);
        return peer;
    }

    /// <summary>Runs <c>ssh … echo gatehouse-ok</c> as <paramref name="user"/> with the key and certificate files.</summary>
    public Task<ProcessResult> LoginAsync(string keyFile, string certificateFile, string user) =>
        Peer.RunAsync("ssh",
        [
            "-F", "/dev/null", // neither the machine's nor the user's ssh_config
            "-i", keyFile,
            "-o", $"CertificateFile={certificateFile}",
            "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=10",
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            $"{user}@127.0.0.1",
            "echo", "gatehouse-ok",
        ], timeout: TimeSpan.FromSeconds(30));

    /// <summary>Waits until sshd has logged the text (it logs a refusal as the client is told).</summary>
    public Task WaitForLogAsync(string text) => _sshd!.WaitForOutputAsync(text, TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        if (_sshd is not null) await _sshd.DisposeAsync();
        _dir.Dispose();
    }
}
