using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Proxy.Services.MySql;

/// <summary>A MySQL packet: its sequence id and payload (MySQL client/server protocol, "MySQL Packets").</summary>
internal readonly record struct MySqlPacket(byte Sequence, byte[] Payload);

/// <summary>
/// The parts of the MySQL client/server protocol the proxy speaks itself (MySQL source documentation, "Client/Server
/// Protocol": Connection Phase and Generic Response Packets): framing (3-byte length, sequence id), the Initial Handshake
/// packet v10, SSLRequest, HandshakeResponse41, OK and ERR. What follows the connection phase is relayed as it is.
/// </summary>
internal static class MySqlWire
{
    /// <summary>Capability flags (include/mysql_com.h).</summary>
    public const uint LongPassword = 1, FoundRows = 2, LongFlag = 4, ConnectWithDb = 8, NoSchema = 0x10, Compress = 0x20, Odbc = 0x40,
        LocalFiles = 0x80, IgnoreSpace = 0x100, Protocol41 = 0x200, Interactive = 0x400, Ssl = 0x800, Transactions = 0x2000,
        SecureConnection = 0x8000, MultiStatements = 0x10000, MultiResults = 0x20000, PsMultiResults = 0x40000, PluginAuth = 0x80000,
        ConnectAttrs = 0x100000, PluginAuthLenencClientData = 0x200000, SessionTrack = 0x800000, DeprecateEof = 0x1000000,
        QueryAttributes = 0x8000000, ZstdCompression = 0x4000000;

    /// <summary>What the proxy offers a client: what MySQL 5.7+ and MariaDB 10.2+ servers all have, without TLS (the outer
    /// TLS is Gatehouse's), compression (the relay frames packets), query attributes (MySQL 8.0.23+ only) or LOAD DATA
    /// LOCAL (its file's packets wrap their sequence ids to 0, where the relay could not tell them from commands). The
    /// session upstream takes what the client asked for, so both ends agree on how result sets look.</summary>
    public const uint Offered = LongPassword | FoundRows | LongFlag | ConnectWithDb | Odbc | IgnoreSpace | Protocol41 | Interactive
        | Transactions | SecureConnection | MultiStatements | MultiResults | PsMultiResults | PluginAuth | ConnectAttrs
        | PluginAuthLenencClientData | SessionTrack | DeprecateEof;

    /// <summary>A payload of this length says the next packet continues it.</summary>
    public const int MaxPayload = 0xFFFFFF;

    /// <summary>utf8mb4_general_ci: the character set the proxy's greeting names.</summary>
    public const byte Utf8Mb4 = 45;

    /// <summary>Error codes the proxy answers with (include/mysqld_error.h).</summary>
    public const ushort AccessDenied = 1045, DbAccessDenied = 1044, HandshakeError = 1043, UnknownCommand = 1047, ServerGone = 2013;

    public static byte[] Frame(byte sequence, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[4 + payload.Length];
        packet[0] = (byte)payload.Length;
        packet[1] = (byte)(payload.Length >> 8);
        packet[2] = (byte)(payload.Length >> 16);
        packet[3] = sequence;
        payload.CopyTo(packet.AsSpan(4));
        return packet;
    }

    public static int PayloadLength(ReadOnlySpan<byte> header) => header[0] | header[1] << 8 | header[2] << 16;

    /// <summary>Reads one packet whole; null at a clean end of stream before it.</summary>
    /// <exception cref="InvalidDataException">A payload over <paramref name="maxLength"/>, or the stream ended inside it.</exception>
    public static async ValueTask<MySqlPacket?> ReadPacketAsync(Stream stream, int maxLength, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        var read = await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken);
        if (read == 0) return null;
        if (read < 4) throw new InvalidDataException("the connection ended inside a packet header");
        var length = PayloadLength(header);
        if (length > maxLength) throw new InvalidDataException($"a packet of {length} bytes is more than the {maxLength} taken here");
        var payload = new byte[length];
        if (await stream.ReadAtLeastAsync(payload, length, throwOnEndOfStream: false, cancellationToken) < length)
            throw new InvalidDataException("the connection ended inside a packet");
        return new MySqlPacket(header[3], payload);
    }

    public static async ValueTask WritePacketAsync(Stream stream, byte sequence, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Frame(sequence, payload.Span), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>An ERR packet's payload (protocol 4.1: with the SQL state), which the mysql client prints as
    /// <c>ERROR code (state): message</c>.</summary>
    public static byte[] Error(ushort code, string sqlState, string message)
    {
        var body = new ArrayBufferWriter<byte>();
        Put(body, [0xFF, (byte)code, (byte)(code >> 8), (byte)'#']);
        body.Write(Encoding.ASCII.GetBytes(sqlState.PadRight(5, '0')[..5]));
        body.Write(Encoding.UTF8.GetBytes(message));
        return body.WrittenSpan.ToArray();
    }

    /// <summary>The Initial Handshake packet v10 the proxy greets a client with.</summary>
    public static byte[] Greeting(string serverVersion, uint connectionId, ReadOnlySpan<byte> scramble, string authPlugin)
    {
        var body = new ArrayBufferWriter<byte>();
        Put(body, [10]);
        WriteNulString(body, serverVersion);
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(four, connectionId);
        body.Write(four);
        body.Write(scramble[..8]);
        Span<byte> middle = [0, 0, 0, Utf8Mb4, 2, 0, 0, 0, (byte)(scramble.Length + 1)]; // filler, capabilities, charset, status (autocommit)
        BinaryPrimitives.WriteUInt16LittleEndian(middle[1..], (ushort)(Offered & 0xFFFF));
        BinaryPrimitives.WriteUInt16LittleEndian(middle[6..], (ushort)(Offered >> 16));
        body.Write(middle);
        body.Write(new byte[10]);
        body.Write(scramble[8..]);
        Put(body, [0]);
        WriteNulString(body, authPlugin);
        return body.WrittenSpan.ToArray();
    }

    /// <summary>The 32-byte SSLRequest: the head of a HandshakeResponse41 with CLIENT_SSL, sent before the TLS handshake.</summary>
    public static byte[] SslRequest(uint capabilities, byte charset)
    {
        var body = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(body, capabilities | Ssl);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), MaxPayload);
        body[8] = charset;
        return body;
    }

    /// <summary>A HandshakeResponse41 the proxy logs in upstream with.</summary>
    public static byte[] HandshakeResponse(uint capabilities, byte charset, string user, ReadOnlySpan<byte> authResponse, string? database,
        string authPlugin, ReadOnlySpan<byte> connectAttributes)
    {
        var head = SslRequest(capabilities, charset);
        BinaryPrimitives.WriteUInt32LittleEndian(head, capabilities); // the SSLRequest's head, with CLIENT_SSL only if asked
        var output = new ArrayBufferWriter<byte>();
        output.Write(head);
        WriteNulString(output, user);
        WriteLengthEncoded(output, (ulong)authResponse.Length);
        output.Write(authResponse);
        if ((capabilities & ConnectWithDb) != 0) WriteNulString(output, database ?? "");
        WriteNulString(output, authPlugin);
        if ((capabilities & ConnectAttrs) != 0)
        {
            WriteLengthEncoded(output, (ulong)connectAttributes.Length);
            output.Write(connectAttributes);
        }
        return output.WrittenSpan.ToArray();
    }

    private static void Put(IBufferWriter<byte> writer, params ReadOnlySpan<byte> bytes) => writer.Write(bytes);

    public static void WriteNulString(IBufferWriter<byte> writer, string value)
    {
        var span = writer.GetSpan(Encoding.UTF8.GetByteCount(value) + 1);
        var written = Encoding.UTF8.GetBytes(value, span);
        span[written] = 0;
        writer.Advance(written + 1);
    }

    public static void WriteLengthEncoded(IBufferWriter<byte> writer, ulong value)
    {
        if (value < 251) Put(writer, [(byte)value]);
        else if (value < 0x10000) Put(writer, [0xFC, (byte)value, (byte)(value >> 8)]);
        else if (value < 0x1000000) Put(writer, [0xFD, (byte)value, (byte)(value >> 8), (byte)(value >> 16)]);
        else
        {
            Span<byte> eight = stackalloc byte[9];
            eight[0] = 0xFE;
            BinaryPrimitives.WriteUInt64LittleEndian(eight[1..], value);
            writer.Write(eight);
        }
    }

    /// <summary>Reads a NUL-terminated UTF-8 string at <paramref name="at"/>, moving past it; null when no NUL follows.</summary>
    public static string? ReadNulString(ReadOnlySpan<byte> body, ref int at)
    {
        if (at > body.Length) return null;
        var end = body[at..].IndexOf((byte)0);
        if (end < 0) return null;
        var value = Encoding.UTF8.GetString(body.Slice(at, end));
        at += end + 1;
        return value;
    }

    /// <summary>Reads a length-encoded integer at <paramref name="at"/>, moving past it; null when it does not fit.</summary>
    public static ulong? ReadLengthEncoded(ReadOnlySpan<byte> body, ref int at)
    {
        if (at >= body.Length) return null;
        var first = body[at];
        var width = first switch { < 251 => 0, 0xFC => 2, 0xFD => 3, 0xFE => 8, _ => -1 };
        if (width < 0 || at + 1 + width > body.Length) return null;
        ulong value = width == 0 ? first : 0UL;
        for (var i = width - 1; i >= 0; i--) value = value << 8 | body[at + 1 + i];
        at += 1 + width;
        return value;
    }
}
