using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>
/// The parts of the PostgreSQL frontend/backend protocol 3.0 the proxy speaks itself (PostgreSQL documentation, "Frontend/
/// Backend Protocol", §53.2 Message Flow and §53.7 Message Formats): the untyped startup-phase packets and the typed
/// messages of the start of a session. Everything after the session starts is relayed as it is.
/// </summary>
internal static class PostgresWire
{
    /// <summary>Request codes of the untyped first packet (§53.7): version 3.0, and the three special requests.</summary>
    public const int ProtocolVersion3 = 196608, CancelRequestCode = 80877102, SslRequestCode = 80877103, GssEncRequestCode = 80877104;

    /// <summary>The server's own limit on a startup packet (MAX_STARTUP_PACKET_LENGTH in PostgreSQL's pqcomm.h).</summary>
    public const int MaxStartupLength = 10_000;

    /// <summary>The largest message of the session start the proxy reads whole (authentication, parameters, errors).</summary>
    public const int MaxStartMessageLength = 64 * 1024;

    /// <summary>The length a special request packet always has: SSLRequest and GSSENCRequest are 8 bytes, CancelRequest 16.</summary>
    public const int RequestLength = 8, CancelLength = 16;

    /// <summary>What the first eight bytes of a connection say, if they are a PostgreSQL request: its code, or 0.</summary>
    public static int RequestCode(ReadOnlySpan<byte> first8)
    {
        if (first8.Length < 8) return 0;
        var length = BinaryPrimitives.ReadInt32BigEndian(first8);
        var code = BinaryPrimitives.ReadInt32BigEndian(first8[4..]);
        return (length, code) switch
        {
            (RequestLength, SslRequestCode or GssEncRequestCode) => code,
            (CancelLength, CancelRequestCode) => code,
            _ => 0,
        };
    }

    /// <summary>An <c>ErrorResponse</c> (§53.7): severity, SQLSTATE and message, which psql prints as
    /// <c>FATAL:  message</c>. <paramref name="hint"/> becomes its <c>HINT:</c> line.</summary>
    public static byte[] ErrorResponse(string sqlState, string message, string? hint = null, string severity = "FATAL")
    {
        var fields = new List<(char, string)> { ('S', severity), ('V', severity), ('C', sqlState), ('M', message) };
        if (hint is not null) fields.Add(('H', hint));
        var length = 4 + 1 + fields.Sum(f => 1 + Encoding.UTF8.GetByteCount(f.Item2) + 1);
        var bytes = new byte[1 + length];
        bytes[0] = (byte)'E';
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), length);
        var at = 5;
        foreach (var (code, value) in fields)
        {
            bytes[at++] = (byte)code;
            at += Encoding.UTF8.GetBytes(value, bytes.AsSpan(at));
            bytes[at++] = 0;
        }
        bytes[at] = 0;
        return bytes;
    }

    /// <summary>A typed message: type byte, length (including itself), body.</summary>
    public static byte[] Message(char type, ReadOnlySpan<byte> body)
    {
        var message = new byte[5 + body.Length];
        message[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message.AsSpan(5));
        return message;
    }

    /// <summary><c>AuthenticationOk</c>: what the client sees once the proxy has authenticated upstream for it.</summary>
    public static byte[] AuthenticationOk() => Message('R', [0, 0, 0, 0]);

    /// <summary><c>BackendKeyData</c> with the process id and secret key the client will cancel with.</summary>
    public static byte[] BackendKeyData(int processId, int secretKey)
    {
        Span<byte> body = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(body, processId);
        BinaryPrimitives.WriteInt32BigEndian(body[4..], secretKey);
        return Message('K', body);
    }

    /// <summary>A <c>CancelRequest</c> packet for the given key (§53.2.7).</summary>
    public static byte[] CancelRequest(int processId, int secretKey)
    {
        var packet = new byte[CancelLength];
        BinaryPrimitives.WriteInt32BigEndian(packet, CancelLength);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), CancelRequestCode);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), processId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), secretKey);
        return packet;
    }

    /// <summary>The 8-byte <c>SSLRequest</c> the proxy sends a database before its TLS handshake.</summary>
    public static byte[] SslRequest()
    {
        var packet = new byte[RequestLength];
        BinaryPrimitives.WriteInt32BigEndian(packet, RequestLength);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), SslRequestCode);
        return packet;
    }

    /// <summary>A version 3.0 <c>StartupMessage</c> with these parameters, in this order.</summary>
    public static byte[] StartupMessage(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var body = new ArrayBufferWriter<byte>();
        foreach (var (name, value) in parameters)
        {
            WriteCString(body, name);
            WriteCString(body, value);
        }
        body.Write([(byte)0]);
        var packet = new byte[8 + body.WrittenCount];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), ProtocolVersion3);
        body.WrittenSpan.CopyTo(packet.AsSpan(8));
        return packet;
    }

    public static void WriteCString(IBufferWriter<byte> writer, string value)
    {
        var span = writer.GetSpan(Encoding.UTF8.GetByteCount(value) + 1);
        var written = Encoding.UTF8.GetBytes(value, span);
        span[written] = 0;
        writer.Advance(written + 1);
    }

    /// <summary>Reads a NUL-terminated UTF-8 string at <paramref name="at"/>, moving past it; null when no NUL follows.</summary>
    public static string? ReadCString(ReadOnlySpan<byte> body, ref int at)
    {
        var end = body[at..].IndexOf((byte)0);
        if (end < 0) return null;
        var value = Encoding.UTF8.GetString(body.Slice(at, end));
        at += end + 1;
        return value;
    }

    /// <summary>Reads one typed message whole: its type and body; null at a clean end of stream before a message.</summary>
    /// <exception cref="InvalidDataException">A length out of range, or the stream ended inside the message.</exception>
    public static async ValueTask<(char Type, byte[] Body)?> ReadMessageAsync(Stream stream, int maxLength, CancellationToken cancellationToken)
    {
        var header = new byte[5];
        var read = await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, cancellationToken);
        if (read == 0) return null;
        if (read < 5) throw new InvalidDataException("the connection ended inside a message header");
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        if (length < 4 || length - 4 > maxLength)
            throw new InvalidDataException($"a '{(char)header[0]}' message of {length} bytes is out of range (4 to {maxLength + 4})");
        var body = new byte[length - 4];
        if (await stream.ReadAtLeastAsync(body, body.Length, throwOnEndOfStream: false, cancellationToken) < body.Length)
            throw new InvalidDataException($"the connection ended inside a '{(char)header[0]}' message");
        return ((char)header[0], body);
    }
}
