using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Routing;

/// <summary>
/// Reads the SNI host name and the ALPN list out of a TLS ClientHello without consuming or copying the input, for the
/// router's peek (ARCHITECTURE §3). Works on any <see cref="ReadOnlySequence{T}"/> (one byte per segment included),
/// allocates only the strings it returns, and never throws for bad input: every outcome is a
/// <see cref="ClientHelloParse"/>.
/// </summary>
/// <remarks>
/// Two steps, as Kestrel's TlsListener does: first walk the record headers until the handshake message is all
/// there (cheap, resumable through <see cref="ClientHelloScan"/>), then parse the body once. The ClientHello may be
/// split over several handshake records (RFC 8446 §5.1); the body is read through <see cref="HandshakeReader"/>,
/// which steps over the record headers in between.
/// </remarks>
internal static class ClientHelloParser
{
    public const int DefaultMaxBytes = 16 * 1024;
    private const byte HandshakeRecord = 22, ClientHelloMessage = 1;
    private const int RecordHeaderLength = 5, HandshakeHeaderLength = 4;
    private const int MaxFragment = 1 << 14; // RFC 8446 §5.1: a record's length MUST NOT exceed 2^14
    private const ushort ServerNameExtension = 0, AlpnExtension = 16;
    private const int MaxHostName = 255; // a DNS name is at most 253 characters; anything longer is not routable

    public static ClientHelloParse TryParse(ReadOnlySequence<byte> data, int maxBytes = DefaultMaxBytes)
    {
        var scan = default(ClientHelloScan);
        return TryParse(data, maxBytes, ref scan);
    }

    /// <summary>Like <see cref="TryParse(ReadOnlySequence{byte}, int)"/>, resuming the record walk from
    /// <paramref name="scan"/>; pass the same state with the same (grown) input on every call.</summary>
    internal static ClientHelloParse TryParse(ReadOnlySequence<byte> data, int maxBytes, ref ClientHelloScan scan)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, RecordHeaderLength + HandshakeHeaderLength);
        var records = new SequenceReader<byte>(data);
        records.Advance(scan.RecordsEnd);
        Span<byte> header = stackalloc byte[RecordHeaderLength];

        // 1. Walk whole records until they hold the whole handshake message.
        while (scan.HandshakeLength == 0 || scan.HandshakeBytes < scan.HandshakeLength)
        {
            var first = scan.RecordsEnd == 0;
            var have = (int)Math.Min(RecordHeaderLength, records.Remaining);
            records.TryCopyTo(header[..have]);
            // Judge the bytes that are here: "GET /", an SSLv2 hello (0x80 ...) or 0x16 0x07 is not TLS after one or two.
            if (have >= 1 && header[0] != HandshakeRecord)
                return first
                    ? Fail(ClientHelloStatus.NotTls, $"the first byte is 0x{header[0]:x2}, not a TLS handshake record")
                    : Fail(ClientHelloStatus.Malformed, $"a record of type {header[0]} inside the ClientHello (RFC 8446 §5.1)");
            if ((have >= 2 && header[1] != 3) || (have >= 3 && header[2] is < 1 or > 4))
                return first
                    ? Fail(ClientHelloStatus.NotTls, "the record version is not TLS 1.0 to 1.3")
                    : Fail(ClientHelloStatus.Malformed, "a record version inside the ClientHello is not TLS 1.0 to 1.3");
            if (have < RecordHeaderLength)
                return scan.RecordsEnd + RecordHeaderLength > maxBytes ? TooLarge(maxBytes) : ClientHelloParse.NeedMoreData;

            var length = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
            if (length is 0 or > MaxFragment)
                return Fail(ClientHelloStatus.Malformed, $"a handshake record of {length} bytes (1 to {MaxFragment} allowed)");
            var end = scan.RecordsEnd + RecordHeaderLength + length;
            if (end > maxBytes) return TooLarge(maxBytes);
            if (records.Remaining < RecordHeaderLength + length) return ClientHelloParse.NeedMoreData;
            records.Advance(RecordHeaderLength + length);
            scan.RecordsEnd = end;
            scan.HandshakeBytes += length;

            if (scan.HandshakeLength == 0 && scan.HandshakeBytes >= HandshakeHeaderLength)
            {
                var message = new HandshakeReader(data.Slice(0, end));
                message.TryReadByte(HandshakeHeaderLength, out var type);
                message.TryReadUInt24(HandshakeHeaderLength, out var bodyLength);
                if (type != ClientHelloMessage)
                    return Fail(ClientHelloStatus.Malformed, $"the first handshake message is of type {type}, not a ClientHello");
                scan.HandshakeLength = HandshakeHeaderLength + bodyLength;
                // Refuse a declared size that cannot fit at once, rather than waiting for the bytes.
                var missing = scan.HandshakeLength - scan.HandshakeBytes;
                if (missing > 0 && scan.RecordsEnd + RecordHeaderLength + missing > maxBytes) return TooLarge(maxBytes);
            }
        }
        if (scan.HandshakeBytes > scan.HandshakeLength)
            return Fail(ClientHelloStatus.Malformed, "bytes follow the ClientHello in its last record");

        // 2. Parse the message once.
        var reader = new HandshakeReader(data.Slice(0, scan.RecordsEnd));
        reader.Skip(HandshakeHeaderLength, HandshakeHeaderLength);
        return ParseBody(ref reader, (int)scan.HandshakeLength, (int)scan.RecordsEnd);
    }

    // RFC 8446 §4.1.2 (and RFC 5246 §7.4.1.2, whose extensions block may be absent).
    private static ClientHelloParse ParseBody(ref HandshakeReader r, int end, int consumed)
    {
        if (!r.Skip(2 + 32, end)) return Malformed("the ClientHello is too short for its version and random");
        if (!r.TryReadByte(end, out var sessionIdLength) || sessionIdLength > 32 || !r.Skip(sessionIdLength, end))
            return Malformed("bad legacy_session_id");
        if (!r.TryReadUInt16(end, out var suites) || suites < 2 || suites % 2 != 0 || !r.Skip(suites, end))
            return Malformed("bad cipher_suites");
        if (!r.TryReadByte(end, out var compression) || compression < 1 || !r.Skip(compression, end))
            return Malformed("bad legacy_compression_methods");
        if (r.Position == end) return ClientHelloParse.Complete(null, [], consumed);
        if (!r.TryReadUInt16(end, out var extensionsLength) || r.Position + extensionsLength != end)
            return Malformed("the extensions length does not match the ClientHello's");

        // RFC 8446 §4.2: no two extensions of one type. One bit per possible type: 8 KiB on the stack, O(1) a look-up.
        Span<ulong> seen = stackalloc ulong[65536 / 64];
        string? serverName = null;
        IReadOnlyList<string> alpn = [];
        while (r.Position < end)
        {
            if (!r.TryReadUInt16(end, out var type) || !r.TryReadUInt16(end, out var length) || r.Position + length > end)
                return Malformed("an extension runs past the end of the ClientHello");
            ref var bits = ref seen[type >> 6];
            if ((bits & (1UL << (type & 63))) != 0) return Malformed($"extension {type} appears twice (RFC 8446 §4.2)");
            bits |= 1UL << (type & 63);
            var extensionEnd = r.Position + length;
            string? error = null;
            if (type == ServerNameExtension) error = ReadServerName(ref r, extensionEnd, out serverName);
            else if (type == AlpnExtension) error = ReadAlpn(ref r, extensionEnd, out alpn);
            else r.Skip(length, extensionEnd);
            if (error is not null) return Malformed(error);
            if (r.Position != extensionEnd) return Malformed($"extension {type} has bytes after its content");
        }
        return ClientHelloParse.Complete(serverName, alpn, consumed);
    }

    // RFC 6066 §3: ServerName server_name_list<1..2^16-1>; at most one name per name_type; host_name is ASCII, no
    // trailing dot. Names of unknown types are skipped, read as opaque<1..2^16-1> as Go's crypto/tls does.
    private static string? ReadServerName(ref HandshakeReader r, int end, out string? hostName)
    {
        hostName = null;
        if (!r.TryReadUInt16(end, out var listLength) || listLength == 0 || r.Position + listLength != end)
            return "the server_name list length is wrong";
        Span<byte> name = stackalloc byte[MaxHostName];
        while (r.Position < end)
        {
            if (!r.TryReadByte(end, out var nameType) || !r.TryReadUInt16(end, out var length) || length == 0 || r.Position + length > end)
                return "a server_name entry has a bad length";
            if (nameType != 0)
            {
                r.Skip(length, end);
                continue;
            }
            if (hostName is not null) return "server_name holds more than one host_name (RFC 6066 §3)";
            if (length > MaxHostName) return $"the SNI host name is {length} bytes long";
            r.TryCopyTo(name[..length], end);
            foreach (var b in name[..length])
                if (b is <= 0x20 or >= 0x7f) return "the SNI host name is not printable ASCII";
            if (name[length - 1] == (byte)'.') return "the SNI host name ends with a dot (RFC 6066 §3)";
            hostName = Encoding.ASCII.GetString(name[..length]);
        }
        return hostName is null ? "server_name holds no host_name" : null;
    }

    // RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, ProtocolName opaque<1..2^8-1>. Names are opaque
    // bytes: Latin-1 keeps every byte (a GREASE or unknown name just matches nothing) without rejecting the hello.
    private static string? ReadAlpn(ref HandshakeReader r, int end, out IReadOnlyList<string> protocols)
    {
        protocols = [];
        if (!r.TryReadUInt16(end, out var listLength) || listLength < 2 || r.Position + listLength != end)
            return "the ALPN list length is wrong";
        var count = 0;
        var probe = r; // a first pass counts, so the result is one exactly-sized array
        while (probe.Position < end)
        {
            if (!probe.TryReadByte(end, out var length) || length == 0 || !probe.Skip(length, end))
                return "an ALPN protocol name is empty or runs past the list (RFC 7301 §3.1)";
            count++;
        }
        var names = new string[count];
        Span<byte> name = stackalloc byte[byte.MaxValue];
        for (var i = 0; i < count; i++)
        {
            r.TryReadByte(end, out var length);
            r.TryCopyTo(name[..length], end);
            names[i] = Encoding.Latin1.GetString(name[..length]);
        }
        protocols = names;
        return null;
    }

    private static ClientHelloParse Fail(ClientHelloStatus status, string error) => ClientHelloParse.Failed(status, error);

    private static ClientHelloParse Malformed(string error) => ClientHelloParse.Failed(ClientHelloStatus.Malformed, error);

    private static ClientHelloParse TooLarge(int maxBytes) =>
        ClientHelloParse.Failed(ClientHelloStatus.TooLarge, $"the ClientHello does not fit in {maxBytes} bytes");

    /// <summary>
    /// Reads the handshake bytes of records already validated by the walk, stepping over each 5-byte record header.
    /// Every read takes the end of the enclosing structure, in handshake bytes, and fails rather than cross it.
    /// </summary>
    private ref struct HandshakeReader(ReadOnlySequence<byte> records)
    {
        private SequenceReader<byte> _reader = new(records);
        private int _leftInRecord;

        /// <summary>Handshake bytes read so far, from the handshake header on.</summary>
        public int Position { get; private set; }

        public bool TryReadByte(int end, out byte value)
        {
            value = 0;
            if (Position + 1 > end || !EnterRecord()) return false;
            _reader.TryRead(out value);
            _leftInRecord--;
            Position++;
            return true;
        }

        public bool TryReadUInt16(int end, out int value)
        {
            value = 0;
            if (Position + 2 > end || !TryReadByte(end, out var high) || !TryReadByte(end, out var low)) return false;
            value = high << 8 | low;
            return true;
        }

        public bool TryReadUInt24(int end, out int value)
        {
            value = 0;
            if (Position + 3 > end || !TryReadByte(end, out var high) || !TryReadUInt16(end, out var low)) return false;
            value = high << 16 | low;
            return true;
        }

        public bool Skip(int count, int end) => Consume(count, end, default, copy: false);

        public bool TryCopyTo(scoped Span<byte> destination, int end) => Consume(destination.Length, end, destination, copy: true);

        private bool Consume(int count, int end, scoped Span<byte> destination, bool copy)
        {
            if (Position + count > end) return false;
            while (count > 0)
            {
                if (!EnterRecord()) return false;
                var step = Math.Min(count, _leftInRecord);
                if (copy)
                {
                    _reader.TryCopyTo(destination[..step]);
                    destination = destination[step..];
                }
                _reader.Advance(step);
                _leftInRecord -= step;
                Position += step;
                count -= step;
            }
            return true;
        }

        // Steps over record headers; the walk checked them (type, version, 1 ≤ length ≤ 2^14, all bytes present).
        private bool EnterRecord()
        {
            while (_leftInRecord == 0)
            {
                if (_reader.Remaining < RecordHeaderLength) return false;
                _reader.Advance(3);
                _reader.TryReadBigEndian(out short length);
                _leftInRecord = (ushort)length;
            }
            return true;
        }
    }
}
