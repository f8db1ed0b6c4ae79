namespace Gatehouse.Testing;

/// <summary>
/// A real nginx, as a stand-in balancer, on free loopback ports. The caller writes the <c>server { … }</c> blocks
/// (given the folder, for certificate paths); everything nginx would otherwise write under /var (temp folders, pid,
/// logs) stays inside the peer's own folder. Runs in the foreground (<c>daemon off</c>), stopped by PID on dispose.
/// </summary>
internal sealed class NginxPeer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private BackgroundProcess? _nginx;

    private NginxPeer() { }

    /// <summary>The peer's folder: nginx.conf and whatever the caller put there (certificates).</summary>
    public string Directory => _dir.Path;

    public string File(string name) => _dir.File(name);

    /// <summary>What nginx printed (error_log goes to stderr at level info).</summary>
    public string Output => _nginx?.Output ?? "";

    /// <summary>
    /// Starts nginx with the <c>http { }</c> body <paramref name="servers"/> made by the callback from this peer (so it
    /// can write certificates into <see cref="Directory"/> first) and waits until every port in <paramref name="ports"/>
    /// accepts connections.
    /// </summary>
    public static Task<NginxPeer> StartAsync(Func<NginxPeer, Task<string>> servers, params int[] ports) =>
        StartAsync(servers, _ => Task.FromResult(""), ports);

    /// <summary>
    /// As above, plus <paramref name="mainContext"/>: directives at nginx.conf's top level, such as <c>load_module</c> and a
    /// <c>stream { }</c> block for layer-4 passthrough.
    /// </summary>
    public static async Task<NginxPeer> StartAsync(Func<NginxPeer, Task<string>> servers, Func<NginxPeer, Task<string>> mainContext, params int[] ports)
    {
        var peer = new NginxPeer();
        try
        {
            var nginx = Peer.Require("nginx");
            var body = await servers(peer);
            var main = await mainContext(peer);
            var dir = peer.Directory;
            // As root the workers would switch to "nobody", which cannot enter a 0700 temp folder; stay root then.
            var user = Environment.UserName == "root" ? "user root;" : "";
            await System.IO.File.WriteAllTextAsync(peer.File("nginx.conf"), $$"""
                {{main}}
                {{user}}
                worker_processes 1;
                events { worker_connections 128; }
                http {
                    access_log off;
                    client_body_temp_path {{dir}}/client_body_temp;
                    proxy_temp_path {{dir}}/proxy_temp;
                    fastcgi_temp_path {{dir}}/fastcgi_temp;
                    uwsgi_temp_path {{dir}}/uwsgi_temp;
                    scgi_temp_path {{dir}}/scgi_temp;
                    default_type text/plain;
                {{body}}
                }
                """);
            // -e: the error log before the configuration is read (the compiled-in default is under /var/log).
            peer._nginx = BackgroundProcess.Start(nginx,
                ["-p", dir, "-c", peer.File("nginx.conf"), "-e", "stderr", "-g", $"daemon off; error_log stderr info; pid {dir}/nginx.pid;"]);
            // nginx starts its workers only once every listen socket is bound: waiting for that line, not only for the ports to
            // answer, means another program that took one of the ports after it was picked fails here with nginx's own
            // "bind() … failed" in the message, instead of answering in nginx's place.
            await peer._nginx.WaitForOutputAsync("start worker process", TimeSpan.FromSeconds(30));
            foreach (var port in ports)
                await Peer.WaitForPortAsync(port, TimeSpan.FromSeconds(15), () => "nginx output:\n" + peer.Output, server: peer._nginx);
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
        if (_nginx is not null) await _nginx.DisposeAsync();
        _dir.Dispose();
    }
}
