using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>What the sink understands: the first byte of each command picks it.</summary>
internal static class SinkProtocol
{
    /// <summary>Echo: the sink writes back every byte from here on (this one included) until the peer closes.</summary>
    public const byte Echo = (byte)'E';

    /// <summary>Bulk: an 8-byte big-endian length follows, then that many bytes; the sink drains them and answers <see cref="Done"/>.</summary>
    public const byte Bulk = (byte)'B';

    public const byte Done = (byte)'K';

    public const int BufferSize = 64 * 1024;
}

/// <summary>
/// The TCP app behind both Gatehouse and nginx: the same process, the same code, so the two paths differ only in what
/// sits in front of it. Runs until killed.
/// </summary>
internal static class TcpSink
{
    public static async Task<int> RunAsync(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(backlog: 1024);
        Console.Out.WriteLine($"sink listening on 127.0.0.1:{port}");
        while (true)
        {
            var socket = await listener.AcceptSocketAsync();
            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private static async Task ServeAsync(Socket socket)
    {
        // An echo connection mostly sits idle (P3, P8 holds thousands): it holds a buffer only while bytes are there
        // (a zero-byte read waits for them). A bulk drain keeps one for its whole transfer.
        byte[]? buffer = null;
        var command = new byte[1];
        try
        {
            using var stream = new NetworkStream(socket, ownsSocket: true);
            while (await stream.ReadAsync(command) == 1)
            {
                if (command[0] == SinkProtocol.Echo)
                {
                    await stream.WriteAsync(command);
                    while (true)
                    {
                        _ = await stream.ReadAsync(Memory<byte>.Empty); // a zero-byte read: waits, takes nothing
                        buffer = ArrayPool<byte>.Shared.Rent(SinkProtocol.BufferSize);
                        var read = await stream.ReadAsync(buffer);
                        if (read == 0) return;
                        await stream.WriteAsync(buffer.AsMemory(0, read));
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }
                }
                if (command[0] != SinkProtocol.Bulk) return;
                buffer ??= ArrayPool<byte>.Shared.Rent(SinkProtocol.BufferSize);
                await stream.ReadExactlyAsync(buffer.AsMemory(0, 8));
                var remaining = BinaryPrimitives.ReadInt64BigEndian(buffer);
                while (remaining > 0)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)));
                    if (read == 0) return;
                    remaining -= read;
                }
                command[0] = SinkProtocol.Done;
                await stream.WriteAsync(command);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException)
        {
            // The peer went away (a handshake benchmark closes without a word); nothing to report.
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
