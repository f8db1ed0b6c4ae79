using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.ForwardedCerts.Formats;

namespace Gatehouse.ForwardedCerts;

/// <summary>
/// What a verdict is cached under: the SHA-256 of exactly what was presented (every certificate's DER, in order), the
/// texts a format checked against the parsed leaf, the trust-store version and the source. Every field is
/// length-prefixed, so two different presentations never share an encoding, and SHA-256 makes two different encodings
/// sharing a key as unlikely as forging a certificate: a hit never hands one certificate's verdict to another.
/// Computed from bytes, before any certificate is parsed.
/// </summary>
internal readonly record struct VerdictKey(ulong A, ulong B, ulong C, ulong D)
{
    public static VerdictKey Of(PresentedChain chain, LeafCheck? check, long trustVersion, string source)
    {
        var size = Fixed(source) + chain.Length + 4 * chain.Count;
        if (check is not null)
            foreach (var text in check.Input) size += 4 + Encoding.UTF8.GetByteCount(text);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var writer = new Writer(buffer);
            writer.Header(source, trustVersion, chain.Count);
            for (var i = 0; i < chain.Count; i++) writer.Bytes(chain[i]);
            writer.Count(check?.Input.Count ?? 0);
            if (check is not null)
                foreach (var text in check.Input) writer.Text(text);
            return writer.Hash();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A certificate from our own handshake: <see cref="X509Certificate2.RawDataMemory"/> (no copy) of each.</summary>
    public static VerdictKey Of(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, long trustVersion, string source)
    {
        var size = Fixed(source) + 4 + leaf.RawDataMemory.Length;
        foreach (var certificate in intermediates) size += 4 + certificate.RawDataMemory.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var writer = new Writer(buffer);
            writer.Header(source, trustVersion, 1 + intermediates.Count);
            writer.Bytes(leaf.RawDataMemory.Span);
            foreach (var certificate in intermediates) writer.Bytes(certificate.RawDataMemory.Span);
            writer.Count(0);
            return writer.Hash();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // source (length-prefixed), trust version, certificate count, check count.
    private static int Fixed(string source) => 4 + Encoding.UTF8.GetByteCount(source) + 8 + 4 + 4;

    private ref struct Writer(byte[] buffer)
    {
        private int _at;

        public void Header(string source, long trustVersion, int count)
        {
            Text(source);
            BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(_at), trustVersion);
            _at += 8;
            Count(count);
        }

        public void Count(int count)
        {
            BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(_at), count);
            _at += 4;
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            Count(bytes.Length);
            bytes.CopyTo(buffer.AsSpan(_at));
            _at += bytes.Length;
        }

        public void Text(string text)
        {
            var length = Encoding.UTF8.GetBytes(text, buffer.AsSpan(_at + 4));
            Count(length);
            _at += length;
        }

        public readonly VerdictKey Hash()
        {
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer.AsSpan(0, _at), hash);
            var words = MemoryMarshal.Cast<byte, ulong>(hash);
            return new VerdictKey(words[0], words[1], words[2], words[3]);
        }
    }
}
