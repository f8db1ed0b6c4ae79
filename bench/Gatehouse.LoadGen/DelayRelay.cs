using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Gatehouse.LoadGen;

/// <summary>
/// A link with a one-way delay, for set-up measured where round trips matter (P3 with <c>P3_DELAY_MS</c>): listens on
/// 127.0.0.1:<c>--port</c>, connects each accepted connection to 127.0.0.1:<c>--to</c>, and delivers every chunk
/// <c>--ms</c> milliseconds after it was read, in each direction, in order. The TCP handshake's round trip is kept too:
/// the first bytes from the client reach the server no earlier than three one-way delays after the connect, as on a
/// real link (SYN, SYN-ACK, then the data). It stands in for <c>tc qdisc … netem</c>, which this machine's kernel lacks;
/// unlike a netem qdisc on the loopback, it slows only the connections sent through it.
/// </summary>
internal static class DelayRelay
{
    public static async Task<int> RunAsync(int port, int to, int delayMs)
    {
        var delay = TimeSpan.FromMilliseconds(delayMs);
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(backlog: 1024);
        Console.Out.WriteLine($"delay listening on 127.0.0.1:{port} -> {to}, {delayMs} ms each way");
        while (true)
        {
            var client = await listener.AcceptSocketAsync();
            _ = Task.Run(() => RelayAsync(client, to, delay));
        }
    }

    private static async Task RelayAsync(Socket client, int to, TimeSpan delay)
    {
        var accepted = Stopwatch.GetTimestamp();
        client.NoDelay = true;
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, to));
            // Client → server: not before the connect's round trip is over (2 × delay), then one delay on the way.
            var up = PumpAsync(client, server, delay, notBefore: accepted + (long)(2 * delay.TotalSeconds * Stopwatch.Frequency));
            var down = PumpAsync(server, client, delay, notBefore: 0);
            await Task.WhenAll(up, down);
        }
        catch (SocketException)
        {
            // either end went away
        }
        finally
        {
            client.Dispose();
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, TimeSpan delay, long notBefore)
    {
        var queue = Channel.CreateUnbounded<(long Due, byte[]? Buffer, int Length)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var sender = SendAsync(queue.Reader, to);
        var ticks = (long)(delay.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
                int read;
                try
                {
                    read = await from.ReceiveAsync(buffer, SocketFlags.None);
                }
                catch (SocketException)
                {
                    read = 0;
                }
                var due = Math.Max(Stopwatch.GetTimestamp(), notBefore) + ticks;
                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    queue.Writer.TryWrite((due, null, 0)); // the end, passed on as a half-close
                    break;
                }
                queue.Writer.TryWrite((due, buffer, read));
            }
        }
        finally
        {
            queue.Writer.TryComplete();
            await sender;
        }
    }

    private static async Task SendAsync(ChannelReader<(long Due, byte[]? Buffer, int Length)> queue, Socket to)
    {
        var failed = false;
        await foreach (var (due, buffer, length) in queue.ReadAllAsync())
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            try
            {
                if (failed) continue;
                if (buffer is null) to.Shutdown(SocketShutdown.Send);
                else await to.SendAsync(buffer.AsMemory(0, length), SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                failed = true;
            }
            finally
            {
                if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
