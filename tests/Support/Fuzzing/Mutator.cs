using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Testing.Fuzzing;

/// <summary>
/// Byte-level mutations in the style of AFL's havoc stage: one edit or a stack of 2 to 16 (bit flips, boundary values in
/// 8/16/32-bit fields of either byte order, block deletes, inserts and copies, splices with another seed, tokens of the
/// format) applied to one seed of the corpus. Everything comes from the <see cref="Random"/> it is given, so an input
/// is reproduced from its seed and index alone.
/// </summary>
internal static class Mutator
{
    private static readonly int[] Interesting8 = [0, 1, 16, 32, 64, 100, 127, 128, 255];
    private static readonly int[] Interesting16 = [0, 128, 255, 256, 512, 1000, 1024, 4096, 32767, 32768, 65535];
    private static readonly long[] Interesting32 = [0, 1, 32768, 65535, 65536, 100663045, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE];

    public static byte[] Mutate(IReadOnlyList<byte[]> corpus, IReadOnlyList<byte[]> tokens, Random random, int maxLength)
    {
        var data = new List<byte>(corpus[random.Next(corpus.Count)]);
        var edits = random.Next(2) == 0 ? 1 : 1 << random.Next(1, 5); // half single edits: they get past checksums and framing more often
        for (var e = 0; e < edits; e++) Edit(data, corpus, tokens, random);
        if (data.Count > maxLength) data.RemoveRange(maxLength, data.Count - maxLength);
        return [.. data];
    }

    private static void Edit(List<byte> data, IReadOnlyList<byte[]> corpus, IReadOnlyList<byte[]> tokens, Random random)
    {
        var at = data.Count == 0 ? 0 : random.Next(data.Count);
        switch (data.Count == 0 ? 7 : random.Next(14))
        {
            case 0: data[at] ^= (byte)(1 << random.Next(8)); break;
            case 1: data[at] = (byte)random.Next(256); break;
            case 2: data[at] = (byte)Interesting8[random.Next(Interesting8.Length)]; break;
            case 3: data[at] = (byte)(data[at] + random.Next(-35, 36)); break;
            case 4: Put(data, at, Interesting16[random.Next(Interesting16.Length)], 2, random.Next(2) == 0); break;
            case 5: Put(data, at, Interesting32[random.Next(Interesting32.Length)], 4, random.Next(2) == 0); break;
            case 6: data.RemoveRange(at, Math.Min(data.Count - at, BlockLength(random))); break;
            case 7: data.InsertRange(at, Enumerable.Range(0, BlockLength(random)).Select(_ => (byte)random.Next(256))); break;
            case 8: // copy a block of the input elsewhere (duplicated fields, repeated headers)
                var from = random.Next(data.Count);
                data.InsertRange(at, data.GetRange(from, Math.Min(data.Count - from, BlockLength(random) * 4)));
                break;
            case 9: // splice: this input's head with another seed's tail
                var other = corpus[random.Next(corpus.Count)];
                var cut = random.Next(other.Length + 1);
                data.RemoveRange(at, data.Count - at);
                data.AddRange(other.AsSpan(cut).ToArray());
                break;
            case 10: data.RemoveRange(at, data.Count - at); break; // truncate
            case 11 or 12 when tokens.Count > 0:
                var token = tokens[random.Next(tokens.Count)];
                if (random.Next(2) == 0) data.InsertRange(at, token);
                else for (var i = 0; i < token.Length && at + i < data.Count; i++) data[at + i] = token[i];
                break;
            default: // one byte repeated: long runs of one character
                data.InsertRange(at, Enumerable.Repeat(data[at], BlockLength(random) * (random.Next(8) == 0 ? 64 : 1)));
                break;
        }
    }

    private static int BlockLength(Random random) => random.Next(4) switch { 0 => 1, 1 => random.Next(1, 9), 2 => random.Next(1, 33), _ => random.Next(1, 257) };

    private static void Put(List<byte> data, int at, long value, int size, bool bigEndian)
    {
        if (at + size > data.Count) return;
        Span<byte> bytes = stackalloc byte[8];
        if (bigEndian) BinaryPrimitives.WriteInt64BigEndian(bytes, value << (8 * (8 - size)));
        else BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        for (var i = 0; i < size; i++) data[at + i] = bytes[i];
    }

    /// <summary>Tokens given as text (ASCII), for a format's dictionary.</summary>
    public static IReadOnlyList<byte[]> Tokens(params string[] tokens) => [.. tokens.Select(Encoding.Latin1.GetBytes)];
}
