using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Pki.Revocation;

/// <summary>
/// Compares certificate serial numbers as big-endian bytes with leading zero bytes ignored, so the
/// DER form of a serial with its high bit set (00 8F 01) equals the bare form (8F 01) callers often
/// have. The alternate <see cref="ReadOnlySpan{T}"/> side lets <see cref="CertificateRevocationList.IsRevoked"/>
/// look a serial up without allocating.
/// </summary>
internal sealed class SerialNumberComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly SerialNumberComparer Instance = new();

    private SerialNumberComparer() { }

    /// <summary>The serial without leading zero bytes; a serial of all zeros becomes empty.</summary>
    public static ReadOnlySpan<byte> Normalise(ReadOnlySpan<byte> serialBigEndian)
    {
        var firstNonZero = serialBigEndian.IndexOfAnyExcept((byte)0);
        return firstNonZero < 0 ? [] : serialBigEndian[firstNonZero..];
    }

    public bool Equals(byte[]? x, byte[]? y) =>
        x is null || y is null ? ReferenceEquals(x, y) : Normalise(x).SequenceEqual(Normalise(y));

    public int GetHashCode([DisallowNull] byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => Normalise(alternate).SequenceEqual(Normalise(other));

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var hash = new HashCode();
        hash.AddBytes(Normalise(alternate));
        return hash.ToHashCode();
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => Normalise(alternate).ToArray();
}
