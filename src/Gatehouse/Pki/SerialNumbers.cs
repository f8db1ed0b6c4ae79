using System.Globalization;
using System.Security.Cryptography;

namespace Gatehouse.Pki;

/// <summary>Certificate serial numbers: generation and the one text form Gatehouse stores and prints.</summary>
internal static class SerialNumbers
{
    /// <summary>128 random bits as a positive DER INTEGER body (RFC 5280 §4.1.2.2 allows up to 20 octets).</summary>
    public static byte[] NewRandom()
    {
        Span<byte> random = stackalloc byte[16];
        do RandomNumberGenerator.Fill(random);
        while (random[0] == 0); // keep all 128 bits significant, so the encoding is always 16 or 17 octets
        // A set high bit would read as a negative INTEGER: prefix a zero octet.
        return random[0] >= 0x80 ? [0, .. random] : random.ToArray();
    }

    /// <summary>Upper-case hex without leading zero octets, e.g. "8F01…"; the same integer always gives the same text.</summary>
    public static string ToText(ReadOnlySpan<byte> bigEndian)
    {
        var start = 0;
        while (start < bigEndian.Length - 1 && bigEndian[start] == 0) start++;
        return Convert.ToHexString(bigEndian[start..]);
    }

    /// <summary>Reads a serial as people paste it: hex with or without colons, spaces or a 0x prefix.</summary>
    public static bool TryParse(string text, out string serial)
    {
        var cleaned = text.Trim().Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        if (cleaned.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) cleaned = cleaned[2..];
        serial = "";
        if (cleaned.Length is 0 or > 42 || !cleaned.All(Uri.IsHexDigit)) return false;
        if (cleaned.Length % 2 == 1) cleaned = "0" + cleaned;
        serial = ToText(Convert.FromHexString(cleaned));
        return true;
    }

    public static string Of(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        ToText(certificate.SerialNumberBytes.Span);

    /// <summary>The serial as the content octets of a positive DER INTEGER (a zero octet first when the high bit is set),
    /// which is how <see cref="System.Security.Cryptography.X509Certificates.CertificateRevocationListBuilder"/> takes it:
    /// without the zero octet a CRL would list a negative serial that matches no certificate.</summary>
    public static byte[] ToBytes(string serial)
    {
        var bytes = Convert.FromHexString(serial.Length % 2 == 1 ? "0" + serial : serial);
        return bytes.Length > 0 && bytes[0] >= 0x80 ? [0, .. bytes] : bytes;
    }

    public static string FromUInt64(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return ToText(bytes);
    }

    public static ulong LowBits64(ReadOnlySpan<byte> bigEndian) =>
        ulong.Parse(Convert.ToHexString(bigEndian[Math.Max(0, bigEndian.Length - 8)..]), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
