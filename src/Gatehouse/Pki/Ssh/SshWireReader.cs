using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// Reads SSH wire data types (RFC 4251 §5) from a blob. Every read checks the remaining length
/// and throws <see cref="FormatException"/> naming the field, because blobs come from files
/// and users, not from us.
/// </summary>
internal ref struct SshWireReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Position => _position;

    public readonly bool AtEnd => _position == _data.Length;

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32BigEndian(Take(4, field));

    public ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64BigEndian(Take(8, field));

    public ReadOnlySpan<byte> ReadString(string field)
    {
        var length = ReadUInt32(field);
        if (length > _data.Length - _position)
            throw new FormatException($"SSH blob field '{field}' claims {length} bytes but only {_data.Length - _position} remain.");
        return Take((int)length, field);
    }

    /// <summary>A text string (UTF-8, RFC 4251 §5); invalid UTF-8 is a format error, not replaced.</summary>
    public string ReadText(string field)
    {
        var bytes = ReadString(field);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatException($"SSH blob field '{field}' is not valid UTF-8.", e);
        }
    }

    /// <summary>An RFC 4251 §5 mpint that must be non-negative; returns the unsigned big-endian magnitude.</summary>
    public ReadOnlySpan<byte> ReadUnsignedMpint(string field)
    {
        var bytes = ReadString(field);
        if (bytes.Length > 0 && (bytes[0] & 0x80) != 0)
            throw new FormatException($"SSH blob field '{field}' is a negative mpint.");
        return bytes.TrimStart((byte)0);
    }

    public readonly void EnsureAtEnd(string what)
    {
        if (!AtEnd)
            throw new FormatException($"{what} has {_data.Length - _position} unexpected trailing bytes.");
    }

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count > _data.Length - _position)
            throw new FormatException($"SSH blob ends inside field '{field}'.");
        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
