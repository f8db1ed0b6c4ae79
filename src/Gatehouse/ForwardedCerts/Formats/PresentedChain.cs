using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// The DER of the certificates a request presented, leaf first, exactly as decoded from the headers, in one pooled
/// buffer. Decoders check that each is one complete DER SEQUENCE; parsing into <see cref="X509Certificate2"/> is
/// left to <see cref="Load"/>, so a verdict-cache hit (keyed on these bytes) never pays for it. Dispose returns the
/// buffer.
/// </summary>
internal sealed class PresentedChain : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private int[] _ends = new int[4];
    private string[] _headers = new string[4];

    public PresentedChain(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));

    public int Count { get; private set; }

    /// <summary>Total DER bytes held.</summary>
    public int Length => _length;

    public ReadOnlySpan<byte> this[int index] => _buffer.AsSpan(index == 0 ? 0 : _ends[index - 1], _ends[index] - (index == 0 ? 0 : _ends[index - 1]));

    /// <summary>A span of at least <paramref name="size"/> free bytes after the last certificate, for a decoder to write into.</summary>
    public Span<byte> Reserve(int size)
    {
        if (_buffer.Length - _length < size)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        return _buffer.AsSpan(_length);
    }

    /// <summary>Makes the first <paramref name="size"/> reserved bytes the next certificate, as read from <paramref name="header"/>.</summary>
    public void Commit(int size, string header)
    {
        if (Count == _ends.Length)
        {
            Array.Resize(ref _ends, Count * 2);
            Array.Resize(ref _headers, Count * 2);
        }
        _length += size;
        _ends[Count] = _length;
        _headers[Count++] = header;
    }

    public void RemoveLast()
    {
        if (Count == 0) return;
        Count--;
        _length = Count == 0 ? 0 : _ends[Count - 1];
    }

    /// <summary>Parses every certificate (the expensive step a cache hit skips). The caller disposes what it gets.</summary>
    /// <returns>Null, or an error sentence naming the header of the certificate the runtime would not parse.</returns>
    public string? Load(out X509Certificate2? leaf, out List<X509Certificate2> intermediates)
    {
        leaf = null;
        intermediates = new List<X509Certificate2>(Math.Max(Count - 1, 0));
        for (var i = 0; i < Count; i++)
        {
            X509Certificate2 certificate;
            try
            {
                certificate = X509CertificateLoader.LoadCertificate(this[i]);
            }
            catch (CryptographicException)
            {
                leaf?.Dispose();
                CertificateEncodings.DisposeAll(intermediates);
                leaf = null;
                intermediates.Clear();
                return $"{_headers[i]} holds something that is not an X.509 certificate (certificate {i + 1} of the chain, leaf first)";
            }
            if (i == 0) leaf = certificate;
            else intermediates.Add(certificate);
        }
        return null;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        Count = 0;
        _length = 0;
    }
}
