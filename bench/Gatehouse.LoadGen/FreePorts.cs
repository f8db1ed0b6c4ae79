using System.Net;
using System.Net.Sockets;

namespace Gatehouse.LoadGen;

/// <summary>Free loopback ports for the script: all bound at once (so they differ), then released and printed.</summary>
internal static class FreePorts
{
    public static int Print(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var listener in listeners) listener.Start();
            Console.Out.WriteLine(string.Join(' ', listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)));
        }
        finally
        {
            foreach (var listener in listeners) listener.Stop();
        }
        return 0;
    }
}
