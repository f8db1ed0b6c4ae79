using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Edge.Headers;

/// <summary>
/// A distinguished name as an RFC 2253 string, the form of ALB's -Issuer and -Subject headers (spec §1.4): the last RDN of
/// the DER sequence first, attributes joined by ',' with no space, multi-valued RDNs by '+', the short names of RFC 2253
/// §2.3 (and OpenSSL's for the common others), any other type as its dotted OID with the value as '#' hex of its DER, and
/// the §2.4 escapes. Matches <c>openssl x509 -nameopt RFC2253</c> for ASCII names; characters outside ASCII are written as
/// they are (UTF-8), where OpenSSL escapes their bytes — both are valid RFC 2253.
/// </summary>
internal static class Rfc2253
{
    private static readonly Dictionary<string, string> ShortNames = new()
    {
        ["2.5.4.3"] = "CN", ["2.5.4.7"] = "L", ["2.5.4.8"] = "ST", ["2.5.4.10"] = "O", ["2.5.4.11"] = "OU", ["2.5.4.6"] = "C",
        ["2.5.4.9"] = "STREET", ["0.9.2342.19200300.100.1.25"] = "DC", ["0.9.2342.19200300.100.1.1"] = "UID",
        ["2.5.4.5"] = "serialNumber", ["2.5.4.4"] = "SN", ["2.5.4.42"] = "GN", ["2.5.4.12"] = "title", ["1.2.840.113549.1.9.1"] = "emailAddress",
        ["2.5.4.17"] = "postalCode", ["2.5.4.46"] = "dnQualifier", ["2.5.4.65"] = "pseudonym",
    };

    public static string Format(X500DistinguishedName name)
    {
        var rdns = new List<string>();
        try
        {
            var sequence = new AsnReader(name.RawData, AsnEncodingRules.DER).ReadSequence();
            while (sequence.HasData)
            {
                var set = sequence.ReadSetOf();
                var attributes = new List<string>();
                while (set.HasData)
                {
                    var pair = set.ReadSequence();
                    var oid = pair.ReadObjectIdentifier();
                    var value = pair.ReadEncodedValue();
                    attributes.Add(Attribute(oid, value));
                }
                rdns.Add(string.Join('+', attributes));
            }
        }
        catch (AsnContentException)
        {
            return "#" + Convert.ToHexString(name.RawData); // not valid DER: the whole name as hex, never a crash
        }
        rdns.Reverse();
        return string.Join(',', rdns);
    }

    private static string Attribute(string oid, ReadOnlyMemory<byte> value)
    {
        var text = ShortNames.TryGetValue(oid, out var shortName) ? AsText(value) : null;
        return text is null ? $"{oid}=#{Convert.ToHexString(value.Span)}" : $"{shortName}={Escape(text)}";
    }

    /// <summary>The value of a string type, else null (written as hex).</summary>
    private static string? AsText(ReadOnlyMemory<byte> value)
    {
        try
        {
            var reader = new AsnReader(value, AsnEncodingRules.DER);
            var tag = reader.PeekTag();
            if (tag.TagClass != TagClass.Universal) return null;
            var kind = (UniversalTagNumber)tag.TagValue;
            return kind switch
            {
                UniversalTagNumber.UTF8String or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String
                    or UniversalTagNumber.BMPString or UniversalTagNumber.VisibleString or UniversalTagNumber.NumericString => reader.ReadCharacterString(kind),
                _ => null,
            };
        }
        catch (Exception e) when (e is AsnContentException or DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>RFC 2253 §2.4: ',', '+', '"', '\', '&lt;', '&gt;', ';' always; '#' first; a space first or last; controls as \XX.</summary>
    public static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length + 4);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';' || (c == '#' && i == 0) || (c == ' ' && (i == 0 || i == value.Length - 1)))
                builder.Append('\\').Append(c);
            else if (c < ' ' || c == '\x7F')
                builder.Append('\\').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else
                builder.Append(c);
        }
        return builder.ToString();
    }
}
