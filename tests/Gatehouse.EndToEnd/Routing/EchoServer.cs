using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Gatehouse.EndToEnd.Routing;

/// <summary>
/// The TCP app behind the proxy: a listener on 127.0.0.1 (a free port) that writes back whatever it reads and, when the
/// other side stops sending, stops too — so a client's close travels all the way and back. Stopped on dispose.
/// </summary>
internal sealed class EchoServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();

    private EchoServer(TcpListener listener)
    {
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    public static EchoServer Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new EchoServer(listener);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                _ = EchoAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task EchoAsync(Socket socket)
    {
        using var _ = socket;
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, _stop.Token);
                if (read == 0) break;
                await socket.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client went away or the server stops.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}

/// <summary>Round trips through a local forward: a short message, then 1 MiB written while it is read back.</summary>
internal static class EchoCheck
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Writes <paramref name="payload"/> and reads the same number of bytes back, concurrently (so neither side's
    /// buffers need to hold it all); asserts they are equal.</summary>
    public static async Task RoundTripAsync(NetworkStream stream, byte[] payload)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var writing = Task.Run(async () =>
        {
            await stream.WriteAsync(payload, timeout.Token);
            await stream.FlushAsync(timeout.Token);
        });
        var back = new byte[payload.Length];
        var got = 0;
        while (got < back.Length)
        {
            var read = await stream.ReadAsync(back.AsMemory(got), timeout.Token);
            Assert.True(read > 0, $"the echo ended after {got} of {back.Length} bytes");
            got += read;
        }
        await writing;
        Assert.True(payload.AsSpan().SequenceEqual(back), "the bytes that came back differ from those sent");
    }

    /// <summary>A short message and then 1 MiB of random bytes, over one connection.</summary>
    public static async Task SmallAndBulkAsync(NetworkStream stream)
    {
        await RoundTripAsync(stream, "hello through gatehouse\n"u8.ToArray());
        await RoundTripAsync(stream, RandomNumberGenerator.GetBytes(1024 * 1024));
    }
}
