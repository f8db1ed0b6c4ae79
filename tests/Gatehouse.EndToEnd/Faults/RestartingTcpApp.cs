using System.Net;
using System.Net.Sockets;

namespace Gatehouse.EndToEnd.Faults;

/// <summary>A TCP echo app on a fixed loopback port that can be "restarted" mid-stream: every open connection is reset
/// (as when the process dies) and the listener stops, then a new listener takes the same port.</summary>
internal sealed class RestartingTcpApp : IDisposable
{
    private readonly List<Socket> _open = [];
    private TcpListener _listener;
    private CancellationTokenSource _stop = new();

    public RestartingTcpApp()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync(_listener, _stop.Token);
    }

    public int Port { get; }

    public int Accepted { get; private set; }

    /// <summary>Resets every open connection and listens again on the same port.</summary>
    public void Restart()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_open)
        {
            foreach (var socket in _open)
            {
                socket.LingerState = new LingerOption(true, 0); // close = RST, as a dying process's sockets end
                socket.Dispose();
            }
            _open.Clear();
        }
        _stop = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptAsync(_listener, _stop.Token);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var socket = await listener.AcceptSocketAsync(cancellationToken);
                lock (_open)
                {
                    _open.Add(socket);
                    Accepted++;
                }
                _ = EchoAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer);
                if (read == 0) break;
                await socket.SendAsync(buffer.AsMemory(0, read));
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_open)
        {
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
        _stop.Dispose();
    }
}
