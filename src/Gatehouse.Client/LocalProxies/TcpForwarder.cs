using System.Net.Sockets;
using Gatehouse.Client.Dialing;
using Gatehouse.Routing;

namespace Gatehouse.Client.LocalProxies;

/// <summary><c>gatehouse proxy app NAME</c> for a TCP app, and <c>gatehouse proxy db NAME</c>: each local connection becomes a
/// dial to the target (the proxy's handler speaks the protocol inside). What it has to say
/// (a refused dial, and per connection when verbose) goes to the writer it is given.</summary>
internal static class TcpForwarder
{
    /// <summary>How long Ctrl-C waits for open connections. System.CommandLine ends the process 2 s after Ctrl-C
    /// (InvocationConfiguration.ProcessTerminationTimeout), so the wait must stay below that.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMilliseconds(1500);

    /// <summary>How soon to try again when the process is out of descriptors: short enough that a freed one is used
    /// promptly, long enough not to spin on a full table.</summary>
    private static readonly TimeSpan AcceptRetry = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan SayFullEvery = TimeSpan.FromSeconds(10);

    /// <summary>Accepts until cancelled, then stops listening and gives open connections <see cref="DrainTimeout"/> to end.</summary>
    public static async Task RunAsync(TcpListener listener, ProxyDialer dialer, DialTarget target, bool verbose, TextWriter messages,
        CancellationToken stop)
    {
        using var connections = new CancellationTokenSource();
        var open = new HashSet<Task>();
        var next = 0;
        var saidFull = long.MinValue / 2;
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
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
                {
                    continue; // the client left before it was accepted
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
                {
                    // Out of file descriptors or buffers (thousands of connections at once): the open connections go on,
                    // new ones wait in the listen queue until some close. Said at most every SayFullEvery; the local proxy
                    // must not end, and every connection with it, because one more client came.
                    if (Environment.TickCount64 - saidFull >= (long)SayFullEvery.TotalMilliseconds)
                    {
                        int held;
                        lock (open) held = open.Count;
                        messages.WriteLine($"gatehouse: cannot take a new connection on {listener.LocalEndpoint}: {e.Message} " +
                                           $"({held} open); it waits until some close. Raise the open-files limit (ulimit -n) to hold more.");
                        saidFull = Environment.TickCount64;
                    }
                    try
                    {
                        await Task.Delay(AcceptRetry, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    continue;
                }
                var id = Interlocked.Increment(ref next);
                var task = ForwardAsync(client, id, dialer, target, verbose, messages, connections.Token);
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
        messages.WriteLine($"Stopped listening; waiting for {remaining.Length} open connection(s).");
        var all = Task.WhenAll(remaining);
        if (await Task.WhenAny(all, Task.Delay(DrainTimeout)) != all)
        {
            await connections.CancelAsync();
            await all;
        }
    }

    private static async Task ForwardAsync(Socket client, int id, ProxyDialer dialer, DialTarget target, bool verbose, TextWriter messages,
        CancellationToken cancellationToken)
    {
        var from = client.RemoteEndPoint?.ToString() ?? "?";
        // A database's replies and an interactive protocol's messages are small: each goes out as it is written, not held
        // back by Nagle's algorithm until the previous one is acknowledged (the way to the proxy sets the same).
        client.NoDelay = true;
        await using var local = new NetworkStream(client, ownsSocket: true);
        try
        {
            var result = await dialer.DialAsync(target, cancellationToken);
            if (result.Stream is not { } remote)
            {
                messages.WriteLine($"gatehouse: connection {id} from {from}: {result.Error}");
                return;
            }
            await using (remote)
            {
                if (verbose) messages.WriteLine($"connection {id} from {from}: connected to '{target.Target}' ({result.Route})" +
                                               (result.Pooled ? " over a ready tunnel" : ""));
                var pumped = await DuplexPump.RunAsync(local, remote, cancellationToken);
                if (verbose)
                    messages.WriteLine($"connection {id} closed: {pumped.LeftToRight} bytes sent, {pumped.RightToLeft} received" +
                                            (pumped.Failure is { } f && f is not OperationCanceledException ? $" ({f.Message})" : ""));
            }
        }
        catch (OperationCanceledException)
        {
            if (verbose) messages.WriteLine($"connection {id} from {from}: cut at shutdown");
        }
    }
}
