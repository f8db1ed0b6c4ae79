using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Profiles;
using Gatehouse.Routing;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse proxy app NAME</c>: a local port that forwards each connection to a TCP app behind the proxy.</summary>
internal static class ProxyCommand
{
    /// <summary>How long Ctrl-C waits for open connections. System.CommandLine ends the process 2 s after Ctrl-C
    /// (InvocationConfiguration.ProcessTerminationTimeout), so the wait must stay below that.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMilliseconds(1500);

    public static Command Create() => new("proxy", "Local ports that forward to services behind the proxy") { App() };

    private static Command App()
    {
        var name = new Argument<string>("NAME") { Description = "The TCP app, as registered with the proxy" };
        var port = new Option<int>("--port") { Description = "Local port on 127.0.0.1 (0: a free one, printed)", DefaultValueFactory = _ => 0 };
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print a line per connection" };
        var ca = new Option<string?>("--ca") { Description = "The cluster's host CA (default: the one saved in the profile)" };
        var insecure = new Option<bool>("--insecure") { Description = "Do not check the certificate of the balancer in front (outer TLS; lab use only). The inner TLS to the proxy is always checked." };
        var command = new Command("app", "Forward a local port to a TCP app through the proxy (tunnelled through a balancer when needed)")
        {
            name, port, proxy, verbose, ca, insecure,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var app = parse.GetValue(name)!;
            var localPort = parse.GetValue(port);
            if (localPort is < 0 or > 65535) return CommandKit.Fail($"--port: {localPort} is not a port (0 to 65535).");
            var options = DialerSetup.Create(ProfileStore.Default(), parse.GetValue(proxy), parse.GetValue(ca), parse.GetValue(insecure), requireIdentity: true);
            var dialer = new ProxyDialer(options);
            var (decision, error) = await dialer.DecideAsync(cancellationToken);
            if (decision is null) return CommandKit.Fail(error!);
            var listener = new TcpListener(IPAddress.Loopback, localPort);
            try
            {
                listener.Start();
            }
            catch (SocketException e)
            {
                return CommandKit.Fail($"cannot listen on 127.0.0.1:{localPort}: {e.Message}");
            }
            var bound = ((IPEndPoint)listener.LocalEndpoint).Port;
            Console.Out.WriteLine($"Forwarding 127.0.0.1:{bound} to app '{app}' via {options.Proxy} ({decision.Name}; {decision.Source}). Ctrl-C to stop.");
            await RunAsync(listener, dialer, app, parse.GetValue(verbose), cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>Accepts until cancelled, then stops listening and gives open connections <see cref="DrainTimeout"/> to end.</summary>
    private static async Task RunAsync(TcpListener listener, ProxyDialer dialer, string app, bool verbose, CancellationToken stop)
    {
        using var connections = new CancellationTokenSource();
        var open = new HashSet<Task>();
        var next = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptSocketAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var id = Interlocked.Increment(ref next);
                var task = ForwardAsync(client, id, dialer, app, verbose, connections.Token);
                lock (open) open.Add(task);
                _ = task.ContinueWith(t => { lock (open) open.Remove(t); }, TaskScheduler.Default);
            }
        }
        finally
        {
            listener.Stop();
        }
        Task[] remaining;
        lock (open) remaining = [.. open];
        if (remaining.Length == 0) return;
        Console.Error.WriteLine($"Stopped listening; waiting for {remaining.Length} open connection(s).");
        var all = Task.WhenAll(remaining);
        if (await Task.WhenAny(all, Task.Delay(DrainTimeout)) != all)
        {
            await connections.CancelAsync();
            await all;
        }
    }

    private static async Task ForwardAsync(Socket client, int id, ProxyDialer dialer, string app, bool verbose, CancellationToken cancellationToken)
    {
        var from = client.RemoteEndPoint?.ToString() ?? "?";
        await using var local = new NetworkStream(client, ownsSocket: true);
        try
        {
            var result = await dialer.DialAsync(new DialTarget(AlpnProtocols.Tcp, app), cancellationToken);
            if (result.Stream is not { } remote)
            {
                Console.Error.WriteLine($"gatehouse: connection {id} from {from}: {result.Error}");
                return;
            }
            await using (remote)
            {
                if (verbose) Console.Error.WriteLine($"connection {id} from {from}: connected to '{app}' ({result.Route})");
                var pumped = await DuplexPump.RunAsync(local, remote, cancellationToken);
                if (verbose)
                    Console.Error.WriteLine($"connection {id} closed: {pumped.LeftToRight} bytes sent, {pumped.RightToLeft} received" +
                                            (pumped.Failure is { } f && f is not OperationCanceledException ? $" ({f.Message})" : ""));
            }
        }
        catch (OperationCanceledException)
        {
            if (verbose) Console.Error.WriteLine($"connection {id} from {from}: cut at shutdown");
        }
    }
}
