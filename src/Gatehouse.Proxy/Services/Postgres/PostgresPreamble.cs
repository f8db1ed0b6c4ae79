using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>What a connection on the one TLS port said before TLS, as PostgreSQL clients speak.</summary>
internal enum PreambleOutcome
{
    /// <summary>Not PostgreSQL: nothing was consumed; the ClientHello router goes on as for any connection.</summary>
    None,

    /// <summary>An SSLRequest was answered <c>S</c>: a ClientHello follows, for a PostgreSQL database.</summary>
    TlsAccepted,

    /// <summary>Dealt with here (a cancel passed on, or a client refused in its own words): close the connection.</summary>
    Done,
}

/// <summary>
/// PostgreSQL clients on the one TLS port (ARCHITECTURE §3). libpq opens with an 8-byte SSLRequest before its ClientHello
/// (PostgreSQL documentation §53.2.10), and cancels a query by a new connection carrying a 16-byte CancelRequest in the
/// clear (§53.2.7). Neither is TLS, so this looks first: a TLS record starts with 0x16, a PostgreSQL packet's length
/// with 0x00, and anything else is left to the router as it is.
/// </summary>
internal static class PostgresPreamble
{
    public static async ValueTask<PreambleOutcome> ReadAsync(IDuplexPipe transport, PostgresCancels cancels, TimeSpan timeout, TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var input = transport.Input;
        try
        {
            // A client may ask for GSS encryption first (answered N), then for TLS.
            for (var round = 0; round < 2; round++)
            {
                var buffer = await ReadAtLeastAsync(input, 1, linked.Token);
                var postgres = !buffer.IsEmpty && buffer.FirstSpan[0] == 0;
                input.AdvanceTo(buffer.Start);
                if (!postgres) return PreambleOutcome.None;
                buffer = await ReadAtLeastAsync(input, PostgresWire.RequestLength, linked.Token);
                if (buffer.Length < PostgresWire.RequestLength)
                {
                    input.AdvanceTo(buffer.Start);
                    return PreambleOutcome.None;
                }
                var first = buffer.Slice(0, PostgresWire.RequestLength).ToArray();
                switch (PostgresWire.RequestCode(first))
                {
                    case PostgresWire.SslRequestCode:
                        input.AdvanceTo(buffer.GetPosition(PostgresWire.RequestLength));
                        await transport.Output.WriteAsync("S"u8.ToArray(), linked.Token);
                        return PreambleOutcome.TlsAccepted;
                    case PostgresWire.GssEncRequestCode:
                        input.AdvanceTo(buffer.GetPosition(PostgresWire.RequestLength));
                        await transport.Output.WriteAsync("N"u8.ToArray(), linked.Token);
                        continue;
                    case PostgresWire.CancelRequestCode:
                        input.AdvanceTo(buffer.Start);
                        var key = await TakeAsync(input, PostgresWire.CancelLength, linked.Token);
                        if (key is not null)
                            await cancels.CancelAsync(BinaryPrimitives.ReadInt32BigEndian(key.AsSpan(8)), BinaryPrimitives.ReadInt32BigEndian(key.AsSpan(12)),
                                linked.Token);
                        return PreambleOutcome.Done;
                }
                input.AdvanceTo(buffer.Start);
                var length = BinaryPrimitives.ReadInt32BigEndian(first);
                if (BinaryPrimitives.ReadInt32BigEndian(first.AsSpan(4)) != PostgresWire.ProtocolVersion3 || length is < 8 or > PostgresWire.MaxStartupLength)
                    return PreambleOutcome.None;
                // A StartupMessage in the clear (sslmode=disable): read whole, so the answer is not lost to a reset, and
                // told what to do instead in its own words.
                if (await TakeAsync(input, length, linked.Token) is null) return PreambleOutcome.Done;
                await transport.Output.WriteAsync(PostgresWire.ErrorResponse("28000",
                    "gatehouse: this port speaks PostgreSQL only inside TLS, with your Gatehouse certificate",
                    "connect with sslmode=verify-full and the sslcert, sslkey and sslrootcert that `gatehouse db config NAME` prints"), linked.Token);
                return PreambleOutcome.Done;
            }
            return PreambleOutcome.Done;
        }
        catch (OperationCanceledException)
        {
            // Too slow, or the peer left (a port probe): nothing to route either way.
            return PreambleOutcome.Done;
        }
        catch (IOException)
        {
            return PreambleOutcome.Done;
        }
    }

    /// <summary>Reads and consumes exactly <paramref name="count"/> bytes; null when the peer ends first.</summary>
    private static async ValueTask<byte[]?> TakeAsync(PipeReader input, int count, CancellationToken cancellationToken)
    {
        var buffer = await ReadAtLeastAsync(input, count, cancellationToken);
        if (buffer.Length < count)
        {
            input.AdvanceTo(buffer.Start, buffer.End);
            return null;
        }
        var taken = buffer.Slice(0, count).ToArray();
        input.AdvanceTo(buffer.GetPosition(count));
        return taken;
    }

    /// <summary>Reads until <paramref name="count"/> bytes are buffered or the peer ends; consumes nothing.</summary>
    private static async ValueTask<ReadOnlySequence<byte>> ReadAtLeastAsync(PipeReader input, int count, CancellationToken cancellationToken)
    {
        var read = await input.ReadAtLeastAsync(count, cancellationToken);
        return read.Buffer;
    }
}
