using System.Buffers.Binary;

namespace Gatehouse.Proxy.Services.MySql;

/// <summary>What a client's HandshakeResponse41 says: its capabilities, the db user, the database (when it names one)
/// and its connection attributes (passed on upstream). Its auth response is not kept: the outer TLS certificate is the
/// login, and the proxy logs in upstream itself.</summary>
internal sealed record MySqlClientHandshake(uint Capabilities, byte Charset, string User, string? Database, byte[] ConnectAttributes)
{
    /// <summary>A HandshakeResponse is small: names, a scramble and connection attributes (at most 64 KiB in MySQL).</summary>
    public const int MaxLength = 80 * 1024;

    /// <summary>Reads a HandshakeResponse41 payload; a sentence for the client when it cannot be served.</summary>
    public static (MySqlClientHandshake? Handshake, string? Error) Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4) return (null, "the handshake response is too short to hold the client's capabilities");
        var capabilities = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if ((capabilities & MySqlWire.Protocol41) == 0)
            return (null, "the client speaks the protocol before MySQL 4.1, which Gatehouse does not serve; use a MySQL 5.x or later client");
        if ((capabilities & MySqlWire.Ssl) != 0)
            return (null, "the client asked for TLS inside Gatehouse's own TLS; turn the client's TLS off (mariadb --skip-ssl, mysql --ssl-mode=DISABLED): the connection to Gatehouse is encrypted already");
        if ((capabilities & MySqlWire.Compress) != 0 || (capabilities & MySqlWire.ZstdCompression) != 0)
            return (null, "the client asked for compression, which Gatehouse did not offer; connect without --compress");
        if (payload.Length < 32) return (null, "the handshake response ends inside its fixed part");
        var charset = payload[8];
        var at = 32;
        var user = MySqlWire.ReadNulString(payload, ref at);
        if (user is null) return (null, "the handshake response's user name has no end");
        if (user.Length == 0) return (null, "the handshake response names no user; give the database user (mariadb -u NAME)");
        int authLength;
        if ((capabilities & MySqlWire.PluginAuthLenencClientData) != 0)
        {
            var length = MySqlWire.ReadLengthEncoded(payload, ref at);
            if (length is null || length > (ulong)(payload.Length - at)) return (null, "the handshake response's auth data runs past its end");
            authLength = (int)length;
        }
        else if ((capabilities & MySqlWire.SecureConnection) != 0)
        {
            if (at >= payload.Length) return (null, "the handshake response's auth data runs past its end");
            authLength = payload[at++];
        }
        else
        {
            var end = payload[at..].IndexOf((byte)0);
            if (end < 0) return (null, "the handshake response's auth data has no end");
            authLength = end + 1;
        }
        if (at + authLength > payload.Length) return (null, "the handshake response's auth data runs past its end");
        at += authLength;
        string? database = null;
        if ((capabilities & MySqlWire.ConnectWithDb) != 0 && at < payload.Length)
        {
            database = MySqlWire.ReadNulString(payload, ref at);
            if (database is null) return (null, "the handshake response's database name has no end");
            if (database.Length == 0) database = null;
        }
        if ((capabilities & MySqlWire.PluginAuth) != 0 && at < payload.Length && MySqlWire.ReadNulString(payload, ref at) is null)
            return (null, "the handshake response's auth plugin name has no end");
        byte[] attributes = [];
        if ((capabilities & MySqlWire.ConnectAttrs) != 0 && at < payload.Length)
        {
            var length = MySqlWire.ReadLengthEncoded(payload, ref at);
            if (length is null || length > (ulong)(payload.Length - at)) return (null, "the handshake response's connection attributes run past its end");
            attributes = payload.Slice(at, (int)length).ToArray();
        }
        return (new MySqlClientHandshake(capabilities, charset, user, database, attributes), null);
    }
}

/// <summary>What a database's Initial Handshake packet says.</summary>
/// <param name="Scramble">The 20 bytes of auth plugin data the password scrambles use.</param>
internal sealed record MySqlServerGreeting(string Version, uint Capabilities, byte Charset, byte[] Scramble, string AuthPlugin)
{
    public static MySqlServerGreeting Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > 0 && payload[0] == 0xFF)
            throw new InvalidDataException($"it refused the connection: {MySqlAuthentication.ErrorText(payload)}");
        if (payload.Length == 0 || payload[0] != 10)
            throw new InvalidDataException($"its greeting is not a protocol 10 handshake (version {(payload.Length > 0 ? payload[0] : 0)})");
        var at = 1;
        var version = MySqlWire.ReadNulString(payload, ref at) ?? throw new InvalidDataException("its greeting's server version has no end");
        if (at + 4 + 8 + 1 + 2 > payload.Length) throw new InvalidDataException("its greeting ends early");
        at += 4; // connection id
        var scramble = new List<byte>(payload.Slice(at, 8).ToArray());
        at += 9;
        uint capabilities = BinaryPrimitives.ReadUInt16LittleEndian(payload[at..]);
        at += 2;
        byte charset = 0;
        var plugin = "mysql_native_password";
        if (at + 16 <= payload.Length)
        {
            charset = payload[at];
            capabilities |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(payload[(at + 3)..]) << 16;
            var dataLength = payload[at + 5];
            at += 16;
            if ((capabilities & MySqlWire.SecureConnection) != 0)
            {
                var rest = Math.Max(13, dataLength - 8);
                if (at + rest > payload.Length) throw new InvalidDataException("its greeting's auth data runs past its end");
                scramble.AddRange(payload.Slice(at, rest).ToArray());
                at += rest;
            }
            if ((capabilities & MySqlWire.PluginAuth) != 0 && at < payload.Length)
                plugin = MySqlWire.ReadNulString(payload, ref at) ?? System.Text.Encoding.UTF8.GetString(payload[at..]);
        }
        // The scramble is 20 bytes; the part-2 field carries a trailing NUL.
        var bytes = scramble.Take(20).ToArray();
        return new MySqlServerGreeting(version, capabilities, charset, bytes, plugin);
    }
}
