using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Kube;
using Gatehouse.Client.LocalProxies;
using Gatehouse.Client.Profiles;
using Gatehouse.Client.Ssh;
using Gatehouse.Routing;
using Gatehouse.Storage;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// <c>gatehouse proxy app NAME</c> and <c>gatehouse proxy kube NAME</c>: local ports that reach services behind the
/// proxy, tunnelled through a balancer when one is in front — for balancers that do not forward client certificates.
/// </summary>
internal static class ProxyCommand
{
    public static Command Create() => new("proxy", "Local ports that forward to services behind the proxy") { App(), Kube(), Ssh(), DbCommand.Proxy() };

    /// <summary>The options both verbs share.</summary>
    private sealed record Common(Option<int> Port, Option<string?> Proxy, Option<string?> Ca, Option<bool> Insecure)
    {
        public static Common Create() => new(
            new Option<int>("--port") { Description = "Local port on 127.0.0.1 (0: a free one, printed)", DefaultValueFactory = _ => 0 },
            new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" },
            new Option<string?>("--ca") { Description = "The cluster's host CA (default: the one saved in the profile)" },
            new Option<bool>("--insecure") { Description = "Do not check the certificate of the balancer in front (outer TLS; lab use only). The inner TLS to the proxy is always checked." });

        public void AddTo(Command command)
        {
            command.Add(Port);
            command.Add(Proxy);
            command.Add(Ca);
            command.Add(Insecure);
        }

        /// <summary>The dialer, with the route decided up front (so the first line can say it), or the sentence why not.</summary>
        public async Task<(ProxyDialer? Dialer, TunnelDecision? Decision, int Port, string? Error)> PrepareAsync(ParseResult parse, CancellationToken cancellationToken)
        {
            var port = parse.GetValue(Port);
            if (port is < 0 or > 65535) return (null, null, 0, $"--port: {port} is not a port (0 to 65535).");
            var options = DialerSetup.WithPool(
                DialerSetup.Create(ProfileStore.Default(), parse.GetValue(Proxy), parse.GetValue(Ca), parse.GetValue(Insecure), requireIdentity: true, warnings: Console.Error));
            var dialer = new ProxyDialer(options);
            var (decision, error) = await dialer.DecideAsync(cancellationToken);
            if (decision is not null) return (dialer, decision, port, null);
            await dialer.DisposeAsync();
            return (null, null, 0, error);
        }
    }

    private static Command App()
    {
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print a line per connection (TCP apps)" };
        return OnLocalPort("app", "Serve an app on a local port: a TCP app's bytes, or an HTTP app over plain HTTP on 127.0.0.1 " +
                                  "(through a balancer without mTLS, your certificate travels inside a tunnel)",
            "The app (TCP or HTTP), as registered with the proxy", verbose, checkName: null, async (parse, app, dialer, decision, localPort, cancellationToken) =>
        {
            // Ask the proxy what NAME is (and whether we may reach it) without connecting to it.
            var probe = await dialer.DialAsync(new DialTarget(AlpnProtocols.Tcp, app, Probe: true), cancellationToken);
            if (probe.Stream is { } probed) await probed.DisposeAsync();
            var route = $"via {dialer.Options.Proxy} ({dialer.Decision?.Name ?? decision.Name}; {decision.Source})";
            if (probe.Code == DialCodes.HttpApp)
                return await ServeHttpAsync(dialer, localPort, LocalTargets.HttpApp(app), null,
                    port => $"Serving HTTP app '{app}' at http://127.0.0.1:{port}/ {route}. Ctrl-C to stop.", cancellationToken);
            // The proxy's refusal (no such app, denied, certificate refused) ends here; a route failure may pass (a
            // balancer restarting): the forward starts as for a TCP app, and each connection says what failed.
            if (!probe.Ok && probe.Code is not null) return CommandKit.Fail(probe.Error!);
            if (!probe.Ok) Console.Error.WriteLine($"gatehouse: could not ask the proxy about '{app}' ({probe.Error}); forwarding it as a TCP app.");

            if (CommandKit.ListenLocally(localPort) is not { } listener) return 1;
            var bound = ((IPEndPoint)listener.LocalEndpoint).Port;
            Console.Out.WriteLine($"Forwarding 127.0.0.1:{bound} to app '{app}' {route}. Ctrl-C to stop.");
            await TcpForwarder.RunAsync(listener, dialer, new DialTarget(AlpnProtocols.Tcp, app), parse.GetValue(verbose), Console.Error, cancellationToken);
            return 0;
        });
    }

    /// <summary><c>gatehouse proxy ssh LOGIN@NODE[:PORT]</c>: OpenSSH's ProxyCommand (standard input and output are the
    /// SSH connection, so nothing else may be printed there).</summary>
    private static Command Ssh()
    {
        var target = new Argument<string>("LOGIN@NODE") { Description = "As ssh's ProxyCommand writes it: %r@%h:%p" };
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var ca = new Option<string?>("--ca") { Description = "The cluster's host CA (default: the one saved in the profile)" };
        var command = new Command("ssh", "Connect standard input and output to an SSH node's sshd: the ProxyCommand for plain OpenSSH " +
                                         "(ProxyCommand gatehouse proxy ssh %r@%h:%p)") { target, proxy, ca };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var profiles = ProfileStore.Default();
            var options = DialerSetup.Create(profiles, parse.GetValue(proxy), parse.GetValue(ca), insecure: false, requireIdentity: true, warnings: Console.Error);
            var (parsed, error) = SshTarget.Parse(parse.GetValue(target)!, profiles.Load(options.Proxy.ToString())?.ClusterName);
            if (parsed is null) return CommandKit.Fail(error!);
            return await SshProxyCommand.RunAsync(new ProxyDialer(options), parsed, Console.OpenStandardInput(), Console.OpenStandardOutput(),
                Console.Error, cancellationToken);
        });
        return command;
    }

    private static Command Kube()
    {
        var kubeconfig = new Option<string?>("--kubeconfig")
        {
            Description = "Where to write the kubeconfig for the local proxy (default: kube-NAME.kubeconfig in the profile's directory); removed at exit",
        };
        return OnLocalPort("kube", "Serve a Kubernetes cluster on a local HTTPS port with its own local CA and write a kubeconfig for it " +
                                   "(for balancers without mTLS; your certificate travels inside a tunnel)",
            "The Kubernetes cluster, as registered with the proxy", kubeconfig,
            checkName: cluster => KubeCommand.IsLabel(cluster) ? null : $"'{cluster}' is not a cluster name (one DNS label).",
            async (parse, cluster, dialer, decision, localPort, cancellationToken) =>
        {
            var file = parse.GetValue(kubeconfig) is { } k ? Path.GetFullPath(k)
                : Path.Combine(Path.GetFullPath(dialer.Options.ProfileDirectory ?? "."), $"kube-{cluster}.kubeconfig");
            using var certificates = LocalCertificates.Create($"kube {cluster}");
            var route = $"via {dialer.Options.Proxy} ({decision.Name}; {decision.Source})";
            return await ServeHttpAsync(dialer, localPort, LocalTargets.KubeCluster(cluster),
                certificates, port =>
                {
                    AtomicFile.Write(file, Kubeconfig.ForLocalProxy(cluster, port, certificates), AtomicFile.OwnerOnly);
                    return $"Serving Kubernetes cluster '{cluster}' at https://127.0.0.1:{port} {route}.\n" +
                           $"Use it with: export KUBECONFIG={file}\nCtrl-C to stop (the kubeconfig is removed then).";
                }, cancellationToken, cleanup: () => File.Delete(file));
        });
    }

    private delegate Task<int> ServeLocally(ParseResult parse, string name, ProxyDialer dialer, TunnelDecision decision, int localPort,
        CancellationToken cancellationToken);

    /// <summary>A verb that serves NAME on a local port: the shared options and <paramref name="extra"/>, NAME checked, the dialer
    /// prepared with the route decided (or the sentence why not), then <paramref name="serve"/>.</summary>
    private static Command OnLocalPort(string verb, string description, string nameDescription, Option extra, Func<string, string?>? checkName,
        ServeLocally serve)
    {
        var name = new Argument<string>("NAME") { Description = nameDescription };
        var common = Common.Create();
        var command = new Command(verb, description) { name, extra };
        common.AddTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(name)!;
            if (checkName?.Invoke(target) is { } wrong) return CommandKit.Fail(wrong);
            var (dialer, decision, localPort, error) = await common.PrepareAsync(parse, cancellationToken);
            if (dialer is null) return CommandKit.Fail(error!);
            await using (dialer) return await serve(parse, target, dialer, decision!, localPort, cancellationToken);
        });
        return command;
    }

    /// <summary>Runs a <see cref="LocalForwarder"/> until Ctrl-C; <paramref name="started"/> says what to print once the port is known.</summary>
    private static async Task<int> ServeHttpAsync(ProxyDialer dialer, int port, LocalTarget target, LocalCertificates? tls, Func<int, string> started,
        CancellationToken cancellationToken, Action? cleanup = null)
    {
        LocalForwarder forwarder;
        try
        {
            forwarder = await LocalForwarder.StartAsync(port, dialer, target, tls, Console.Error, cancellationToken);
        }
        catch (IOException e)
        {
            return CommandKit.Fail($"cannot listen on 127.0.0.1:{port}: {e.Message}");
        }
        await using (forwarder)
        {
            try
            {
                Console.Out.WriteLine(started(forwarder.Port));
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                cleanup?.Invoke();
            }
        }
        return 0;
    }
}
