using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Edge.Headers;

/// <summary>
/// The values of ALB's mutual-TLS headers (spec §1.3, §1.4), computed once per connection: the TLS handshake fixes the
/// certificate for every request the connection carries.
/// </summary>
internal static class MtlsHeaderValues
{
    /// <summary>
    /// The certificates as concatenated PEM (64-character lines, '\n' endings), URL-encoded with '+', '=' and '/' left
    /// as they are — Python's <c>quote(pem, safe="+=/")</c>, which is what the ALB documentation describes: letters, digits
    /// and <c>-_.~</c> stay, a space is %20, a newline %0A.
    /// </summary>
    public static string UrlEncodedPem(IEnumerable<X509Certificate2> certificates)
    {
        var builder = new StringBuilder(4096);
        foreach (var certificate in certificates)
        {
            var pem = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", certificate.RawData) + "\n";
            foreach (var c in pem)
            {
                if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' or '+' or '=' or '/') builder.Append(c);
                else
                    foreach (var b in Encoding.UTF8.GetBytes(c.ToString()))
                        builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// The serial number as upper-case hex of its bytes without separators (AWS's examples <c>03A5B1</c>,
    /// <c>FEF257372D5C14D4</c>); the DER sign byte (a leading 00) is dropped, as OpenSSL prints serials.
    /// </summary>
    public static string SerialNumber(X509Certificate2 certificate)
    {
        var bytes = certificate.SerialNumberBytes.Span;
        while (bytes.Length > 1 && bytes[0] == 0) bytes = bytes[1..];
        return Convert.ToHexString(bytes);
    }

    /// <summary><c>NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z</c>: UTC, to the second.</summary>
    public static string Validity(X509Certificate2 certificate) =>
        $"NotBefore={Second(certificate.NotBefore)};NotAfter={Second(certificate.NotAfter)}";

    private static string Second(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>What a listener adds to each request of one connection, by header role; computed after the handshake.</summary>
/// <param name="Chain">Passthrough: the URL-encoded PEM chain as presented, leaf first.</param>
internal sealed record MtlsRequestHeaders(string? Chain, string? SerialNumber, string? Issuer, string? Subject, string? Validity, string? Leaf)
{
    public static MtlsRequestHeaders None { get; } = new(null, null, null, null, null, null);

    public static MtlsRequestHeaders Passthrough(IReadOnlyList<X509Certificate2> presented) =>
        presented.Count == 0 ? None : new(MtlsHeaderValues.UrlEncodedPem(presented), null, null, null, null, null);

    public static MtlsRequestHeaders Verified(X509Certificate2 leaf) =>
        new(null, MtlsHeaderValues.SerialNumber(leaf), Rfc2253.Format(leaf.IssuerName), Rfc2253.Format(leaf.SubjectName), MtlsHeaderValues.Validity(leaf),
            MtlsHeaderValues.UrlEncodedPem([leaf]));
}
