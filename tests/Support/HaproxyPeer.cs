namespace Gatehouse.Testing;

/// <summary>
/// A real HAProxy, as a stand-in balancer, in the foreground (<c>-db</c>) with a configuration the caller writes
/// (given the folder, for certificate paths). Logs go to stderr; stopped by PID on dispose.
/// </summary>
internal sealed class HaproxyPeer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private BackgroundProcess? _haproxy;

    private HaproxyPeer() { }

    public string Directory => _dir.Path;

    public string File(string name) => _dir.File(name);

    public string Output => _haproxy?.Output ?? "";

    /// <summary>
    /// Starts HAProxy with a <c>global</c> section that logs to stderr followed by <paramref name="sections"/> (defaults,
    /// frontends, backends) made by the callback, and waits until every port in <paramref name="ports"/> accepts
    /// connections.
    /// </summary>
    public static async Task<HaproxyPeer> StartAsync(Func<HaproxyPeer, Task<string>> sections, params int[] ports)
    {
        var peer = new HaproxyPeer();
        try
        {
            var haproxy = Peer.Require("haproxy");
            var body = await sections(peer);
            await System.IO.File.WriteAllTextAsync(peer.File("haproxy.cfg"), $"""
                global
                    log stderr format raw local0 info
                    maxconn 256

                {body}

                """); // HAProxy refuses a last line without its newline
            peer._haproxy = BackgroundProcess.Start(haproxy, ["-f", peer.File("haproxy.cfg"), "-db"]);
            foreach (var port in ports)
                await Peer.WaitForPortAsync(port, TimeSpan.FromSeconds(15), () => "haproxy output:\n" + peer.Output, server: peer._haproxy);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_haproxy is not null) await _haproxy.DisposeAsync();
        _dir.Dispose();
    }
}
