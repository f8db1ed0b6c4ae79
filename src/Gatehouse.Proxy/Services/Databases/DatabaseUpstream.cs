using System.Net.Sockets;
using System.Security.Authentication;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Proxy.Services.Databases;

/// <summary>Why a database refused or could not be reached: a sentence for the client, or the database's own error
/// message passed on as it is, in its protocol's bytes (an unknown database, a user without the grant).</summary>
internal sealed record DatabaseStartFailure(string Message, byte[]? ServerError = null);

/// <summary>The connection to a database while its protocol starts a session on it: the protocol replaces
/// <see cref="Stream"/> when it wraps it (TLS); whatever it is at a failure is disposed.</summary>
internal sealed class DatabaseConnection(Stream stream)
{
    public Stream Stream { get; set; } = stream;
}

/// <summary>
/// Opens a database session the same way for every protocol: TCP with a deadline, then the protocol's start (TLS, the
/// login) within another; a failure of either becomes a sentence naming the database, and the connection is closed
/// unless a session took it.
/// </summary>
internal static class DatabaseUpstream
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10), StartTimeout = TimeSpan.FromSeconds(30);

    /// <param name="start">Starts the session on the connection; a session owns the connection's stream from then on.</param>
    public static async Task<(TSession? Session, DatabaseStartFailure? Failure)> OpenAsync<TSession>(Database database,
        Func<DatabaseConnection, CancellationToken, Task<(TSession? Session, DatabaseStartFailure? Failure)>> start, CancellationToken cancellationToken)
        where TSession : class
    {
        var tcp = new TcpClient { NoDelay = true };
        DatabaseConnection? connection = null;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ConnectTimeout);
            try
            {
                await tcp.ConnectAsync(database.Host, database.Port, deadline.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                tcp.Dispose();
                return Fail($"database '{database.Name}' at {database.Address} does not answer ({(e is OperationCanceledException ? "timed out" : e.Message)}); tell its owner");
            }
            deadline.CancelAfter(StartTimeout);
            connection = new DatabaseConnection(tcp.GetStream());
            var (session, failure) = await start(connection, deadline.Token);
            if (session is null) return (null, failure);
            connection = null; // the session owns the stream, and the stream the socket
            return (session, null);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or AuthenticationException or SocketException
            || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Fail($"database '{database.Name}' at {database.Address} failed while starting the session ({(e is OperationCanceledException ? "timed out" : e.Message)})");
        }
        finally
        {
            if (connection is not null)
            {
                await connection.Stream.DisposeAsync();
                tcp.Dispose();
            }
        }

        static (TSession?, DatabaseStartFailure) Fail(string message) => (null, new DatabaseStartFailure(message));
    }
}
