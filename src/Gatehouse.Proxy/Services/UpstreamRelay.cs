using System.Globalization;
using System.Net.Sockets;
using Gatehouse.Proxy.Authentication;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services;

/// <summary>How a relayed session ended: the bytes each way, how long it lasted, and why it stopped, in words.</summary>
internal sealed record RelayOutcome(long BytesIn, long BytesOut, TimeSpan Duration, string How)
{
    /// <summary>Adds what a session's end event records: bytes_in, bytes_out, duration_ms, ended.</summary>
    public Dictionary<string, string> AddTo(Dictionary<string, string> details)
    {
        details["bytes_in"] = BytesIn.ToString(CultureInfo.InvariantCulture);
        details["bytes_out"] = BytesOut.ToString(CultureInfo.InvariantCulture);
        details["duration_ms"] = ((long)Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        details["ended"] = How;
        return details;
    }
}

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
        await using var upstreamStream = upstream.GetStream();
        Stream client = connection.Ping ? new PingFramedStream(connection.Tls, pingInterval, time) : connection.Tls;
        try
        {
            return await PumpAsync(connection, client, upstreamStream, null, time, metrics, cancellationToken);
        }
        finally
        {
            if (connection.Ping) await client.DisposeAsync();
            upstream.Dispose();
        }
    }

    /// <summary>Relays <paramref name="client"/> (the connection's stream as the protocol sees it) and
    /// <paramref name="upstream"/> until either side ends or the caller's credential expires; counts the bytes.</summary>
    /// <param name="observeClient">Sees the client's bytes before they go upstream (a protocol's statement auditor).</param>
    public static async Task<RelayOutcome> PumpAsync(ServiceConnection connection, Stream client, Stream upstream, IByteObserver? observeClient,
        TimeProvider time, GatehouseMetrics metrics, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var expiry = new CredentialExpiry(connection.Caller, time);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        var result = await DuplexPump.RunAsync(client, upstream, session.Token, observeClient);
        metrics.Bytes(ByteDirection.In, result.LeftToRight);
        metrics.Bytes(ByteDirection.Out, result.RightToLeft);
        var how = expiry.HasExpired ? expiry.Describe() : result.Failure?.Message ?? "closed";
        return new RelayOutcome(result.LeftToRight, result.RightToLeft, time.GetElapsedTime(started), how);
    }
}
