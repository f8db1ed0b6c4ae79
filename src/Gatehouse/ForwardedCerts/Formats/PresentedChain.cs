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
            if (Unreadable(certificate) is { } field)
            {
                leaf?.Dispose();
                CertificateEncodings.DisposeAll(intermediates);
                leaf = null;
                intermediates.Clear();
                return $"{_headers[i]} holds a certificate whose {field} cannot be read (certificate {i + 1} of the chain, leaf first)";
            }
            // After the leaf come its issuers, CAs all. Another end-entity certificate there is two values joined into
            // one (a client's copy and the balancer's: traefik's comma list, a merged header): refused, not ignored.
            if (i > 0 && !IsCa(certificate))
            {
                leaf?.Dispose();
                CertificateEncodings.DisposeAll(intermediates);
                leaf = null;
                intermediates.Clear();
                return $"{_headers[i]} holds a certificate that is not a CA's after the leaf (certificate {i + 1} of the chain, leaf first): " +
                    "a chain is the client's certificate and its issuers, so two values were joined into one";
            }
        }
        return null;
    }

    /// <summary>
    /// The runtime parses a certificate's fields lazily: DER that loads can still hold a validity time or an extension
    /// that throws when first read (found by the header fuzzing: a decoded leaf's NotAfter threw in a format's leaf
    /// check, past every decoder). Each field judged later is read here once, so it is refused here, not thrown there.
    /// </summary>
    private static string? Unreadable(X509Certificate2 certificate)
    {
        var field = "validity";
        try
        {
            _ = (certificate.NotBefore, certificate.NotAfter);
            field = "names";
            _ = (certificate.SubjectName.Name, certificate.IssuerName.Name, certificate.SerialNumber);
            field = "extensions";
            foreach (var extension in certificate.Extensions) _ = extension.Oid;
            return null;
        }
        catch (CryptographicException)
        {
            return field;
        }
    }

    /// <summary>True when the certificate says it is a CA; false too when its extensions cannot be read.</summary>
    private static bool IsCa(X509Certificate2 certificate)
    {
        try
        {
            return certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true };
        }
        catch (CryptographicException)
        {
            return false; // found by the header fuzzing: a malformed extension throws on first read
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        Count = 0;
        _length = 0;
    }
}
