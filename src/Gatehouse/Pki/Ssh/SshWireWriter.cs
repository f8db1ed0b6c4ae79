using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// Appends SSH wire data types (RFC 4251 §5) to a growable buffer. Certificates are issued a
/// few times per login, not per packet, so this favours clarity over pooling.
/// </summary>
internal sealed class SshWireWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>RFC 4251 §5 uint32: four bytes, network order.</summary>
    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    /// <summary>RFC 4251 §5 uint64: eight bytes, network order.</summary>
    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    /// <summary>RFC 4251 §5 string: uint32 length followed by that many arbitrary bytes.</summary>
    public void WriteString(ReadOnlySpan<byte> value)
    {
        WriteUInt32((uint)value.Length);
        _buffer.Write(value);
    }

    /// <summary>A text string; RFC 4251 §5 says UTF-8 when a string holds text.</summary>
    public void WriteString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteString(bytes);
    }

    /// <summary>
    /// RFC 4251 §5 mpint from an unsigned big-endian magnitude: two's complement, minimal length,
    /// so leading zero bytes are dropped and one zero byte is put back when the high bit is set
    /// (otherwise the number would read as negative). Zero is the empty string.
    /// </summary>
    public void WriteMpint(ReadOnlySpan<byte> unsignedBigEndian)
    {
        var magnitude = unsignedBigEndian.TrimStart((byte)0);
        var needsSignByte = magnitude.Length > 0 && (magnitude[0] & 0x80) != 0;
        WriteUInt32((uint)(magnitude.Length + (needsSignByte ? 1 : 0)));
        if (needsSignByte)
            _buffer.Write([(byte)0]);
        _buffer.Write(magnitude);
    }
}
