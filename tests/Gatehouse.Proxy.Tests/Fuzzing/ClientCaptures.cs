using System.Net;
using System.Net.Sockets;
using Gatehouse.Proxy.Services.MySql;
using Gatehouse.Testing;

namespace Gatehouse.Proxy.Tests.Fuzzing;

/// <summary>
/// The first bytes real database clients send, captured on a loopback listener: psql's SSLRequest and StartupMessage
/// (answered 'N' as Gatehouse does), and the HandshakeResponse41 the mariadb client sends after our greeting.
/// </summary>
public sealed class ClientCaptures : IAsyncLifetime
{
    public byte[] PsqlStartup { get; private set; } = [];
    public byte[] MariaDbHandshake { get; private set; } = [];

    public async Task InitializeAsync()
    {
        PsqlStartup = await CaptureAsync(
            port => Peer.RunAsync("psql", ["-X", "-w", "-c", "select 1", $"host=127.0.0.1 port={port} user=alice dbname=orders sslmode=prefer application_name=fuzz"]),
            async stream =>
            {
                var ssl = new byte[8];
                await stream.ReadExactlyAsync(ssl);
                await stream.WriteAsync("N"u8.ToArray());
                var length = new byte[4];
                await stream.ReadExactlyAsync(length);
                var rest = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(length) - 4];
                await stream.ReadExactlyAsync(rest);
                return [.. ssl, .. length, .. rest];
            });
        MariaDbHandshake = await CaptureAsync(
            port => Peer.RunAsync("mariadb", ["--protocol=TCP", "-h", "127.0.0.1", "-P", port.ToString(), "-u", "alice", "-psecret", "--skip-ssl", "-D", "orders", "-e", "select 1"]),
            async stream =>
            {
                await stream.WriteAsync(MySqlWire.Frame(0, MySqlWire.Greeting("8.0.36-gatehouse", 7, new byte[20], "mysql_native_password")));
                var packet = await MySqlWire.ReadPacketAsync(stream, 1 << 16, default) ?? throw new InvalidDataException("mariadb sent nothing");
                return packet.Payload;
            });
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<byte[]> CaptureAsync(Func<int, Task<ProcessResult>> client, Func<NetworkStream, Task<byte[]>> read)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = client(((IPEndPoint)listener.LocalEndpoint).Port);
        byte[] captured;
        using (var socket = await listener.AcceptSocketAsync(deadline.Token))
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
            captured = await read(stream).WaitAsync(deadline.Token);
        await running.WaitAsync(deadline.Token); // the client fails once the listener hangs up, as intended
        return captured;
    }
}
