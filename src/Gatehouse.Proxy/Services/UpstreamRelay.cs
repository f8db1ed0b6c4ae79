using System.Net.Sockets;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services;

/// <summary>How a relayed session ended: the bytes each way, how long it lasted, and why it stopped, in words.</summary>
internal sealed record RelayOutcome(long BytesIn, long BytesOut, TimeSpan Duration, string How);

/// <summary>
/// The last step of every protocol that does not terminate its protocol (TCP apps, SSH nodes): connect to the upstream
/// with a deadline, answer the dial, and relay bytes until either side ends or the certificate the connection was
/// allowed for expires (no session outlives its credential).
/// </summary>
internal static class UpstreamRelay
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>; null with the refusal already answered when it
    /// does not answer (<paramref name="what"/> names it for the user, e.g. "node 'db-1' at 10.0.0.5:22").</summary>
    public static async Task<TcpClient?> ConnectAsync(ServiceConnection connection, string host, int port, string what, CancellationToken cancellationToken)
    {
        var upstream = new TcpClient { NoDelay = true };
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ConnectTimeout);
            await upstream.ConnectAsync(host, port, deadline.Token);
            return upstream;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            upstream.Dispose();
            await connection.AnswerAsync(DialAnswer.Refuse(DialCodes.Unreachable,
                $"{what} does not answer ({(e is OperationCanceledException ? "timed out" : e.Message)}); tell its owner"), cancellationToken);
            return null;
        }
    }

    /// <summary>Answers the dial with ok and relays until the session ends; disposes <paramref name="upstream"/>.</summary>
    public static async Task<RelayOutcome> RelayAsync(ServiceConnection connection, TcpClient upstream, TimeSpan pingInterval, TimeProvider time,
        GatehouseMetrics metrics, CancellationToken cancellationToken)
    {
        await connection.AnswerAsync(DialAnswer.Accepted, cancellationToken);
        var started = time.GetTimestamp();
        await using var upstreamStream = upstream.GetStream();
        Stream client = connection.Ping ? new PingFramedStream(connection.Tls, pingInterval, time) : connection.Tls;
        try
        {
            using var expiry = new CredentialExpiry(connection.Caller, time);
            using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
            var result = await DuplexPump.RunAsync(client, upstreamStream, session.Token);
            metrics.Bytes(ByteDirection.In, result.LeftToRight);
            metrics.Bytes(ByteDirection.Out, result.RightToLeft);
            var how = expiry.HasExpired ? expiry.Describe() : result.Failure?.Message ?? "closed";
            return new RelayOutcome(result.LeftToRight, result.RightToLeft, time.GetElapsedTime(started), how);
        }
        finally
        {
            if (connection.Ping) await client.DisposeAsync();
            upstream.Dispose();
        }
    }
}
