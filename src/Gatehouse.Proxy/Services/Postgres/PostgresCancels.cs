using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>
/// The cancel keys of this proxy's PostgreSQL sessions. A client is given a key of the proxy's own (random, in its
/// <c>BackendKeyData</c>), never the database's: a <c>CancelRequest</c> with it — which psql sends on a new connection
/// when the user presses Ctrl-C, in the clear on the one port as libpq does, or inside a tunnel — is passed on to the
/// database with the database's key. As in PostgreSQL itself, the key is the only credential of a cancel.
/// </summary>
internal sealed class PostgresCancels
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<long, (Database Database, int ProcessId, int SecretKey)> _sessions = new();

    /// <summary>A new client-side key for a session whose database key is <paramref name="upstream"/>; dispose the
    /// registration when the session ends.</summary>
    public Registration Register(Database database, (int ProcessId, int SecretKey) upstream)
    {
        while (true)
        {
            // A positive process id, as servers give; 62 random bits in all.
            var processId = RandomNumberGenerator.GetInt32(1, int.MaxValue);
            var secretKey = BitConverter.ToInt32(RandomNumberGenerator.GetBytes(4));
            if (_sessions.TryAdd(Key(processId, secretKey), (database, upstream.ProcessId, upstream.SecretKey)))
                return new Registration(this, processId, secretKey);
        }
    }

    /// <summary>Passes a client's cancel on to the database whose session holds this key; false when none does (the
    /// session has ended, or the key is wrong — both answered with silence, as PostgreSQL does).</summary>
    public async Task<bool> CancelAsync(int processId, int secretKey, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(Key(processId, secretKey), out var session)) return false;
        using var tcp = new TcpClient { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ConnectTimeout);
        try
        {
            // PostgreSQL takes a CancelRequest as the first packet of a plain connection; pg_hba does not apply to it.
            await tcp.ConnectAsync(session.Database.Host, session.Database.Port, deadline.Token);
            await using var stream = tcp.GetStream();
            await stream.WriteAsync(PostgresWire.CancelRequest(session.ProcessId, session.SecretKey), deadline.Token);
            await stream.FlushAsync(deadline.Token);
            // The server closes the connection once it has read the request.
            _ = await stream.ReadAsync(new byte[1], deadline.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static long Key(int processId, int secretKey) => ((long)processId << 32) | (uint)secretKey;

    internal sealed class Registration(PostgresCancels owner, int processId, int secretKey) : IDisposable
    {
        public int ProcessId => processId;
        public int SecretKey => secretKey;

        public void Dispose() => owner._sessions.TryRemove(Key(processId, secretKey), out _);
    }
}
