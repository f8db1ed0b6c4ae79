using System.Buffers;
using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.X500;

/// <summary>
/// Compares an RFC 2253 string (ALB verify's -Issuer and -Subject, spec §1.4; identity_mappings[].issuer) with a
/// certificate's DER name, RDN by
/// RDN: attribute type OID and value, not text, so "CN=a, O=b" equals "CN=a,O=b" and "OID.2.5.4.3=a" equals "CN=a".
/// Handles RFC 2253 §2.4 escapes (\, \+ \" \\ \# \; \&lt; \&gt; \= \space and \XX hex), '#' hex values (compared with
/// the DER of the value), quoted values (RFC 1779) and multi-valued RDNs joined by '+' (compared as sets).
/// </summary>
internal static class DistinguishedNames
{
    private readonly record struct Attribute(string Oid, string? Text, byte[]? Der);

    /// <summary>Null when the text is an RFC 2253 name, else what is wrong (for validating configuration).</summary>
    public static string? CheckSyntax(string rfc2253) => Parse(rfc2253, out _);

    /// <returns>Null when both name the same thing, else a phrase that reads after the header's name.</returns>
    public static string? Compare(string rfc2253, X500DistinguishedName name)
    {
        var problem = Parse(rfc2253, out var claimed);
        if (problem is not null) return $"is not an RFC 2253 name: {problem}";
        List<List<Attribute>> actual;
        try
        {
            actual = Read(name.RawData);
        }
        catch (AsnContentException)
        {
            return "cannot be compared: the certificate's own name is not valid DER";
        }
        claimed.Reverse(); // RFC 2253 §2.1 writes the last RDN of the DER sequence first
        var same = claimed.Count == actual.Count && claimed.Zip(actual).All(pair => SameRdn(pair.First, pair.Second));
        return same ? null : $"says '{UntrustedText.Show(rfc2253, 200)}' but the certificate has '{UntrustedText.Show(name.Name, 200)}'";
    }

    private static bool SameRdn(List<Attribute> claimed, List<Attribute> actual)
    {
        if (claimed.Count != actual.Count) return false;
        var unmatched = new List<Attribute>(actual);
        foreach (var attribute in claimed)
        {
            var index = unmatched.FindIndex(candidate => candidate.Oid == attribute.Oid && (attribute.Der is not null
                ? candidate.Der!.AsSpan().SequenceEqual(attribute.Der)
                : candidate.Text is not null && candidate.Text == attribute.Text));
            if (index < 0) return false;
            unmatched.RemoveAt(index);
        }
        return true;
    }

    /// <summary>Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } (RFC 5280 §4.1.2.4).</summary>
    private static List<List<Attribute>> Read(byte[] der)
    {
        var result = new List<List<Attribute>>();
        var sequence = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        while (sequence.HasData)
        {
            var rdn = new List<Attribute>();
            var set = sequence.ReadSetOf();
            while (set.HasData)
            {
                var pair = set.ReadSequence();
                var oid = pair.ReadObjectIdentifier();
                var value = pair.ReadEncodedValue().ToArray();
                rdn.Add(new Attribute(oid, TryText(value), value));
            }
            result.Add(rdn);
        }
        return result;
    }

    private static string? TryText(byte[] value)
    {
        try
        {
            var tag = Asn1Tag.Decode(value, out _);
            if (tag.TagClass != TagClass.Universal) return null;
            var type = (UniversalTagNumber)tag.TagValue;
            return type is UniversalTagNumber.UTF8String or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String
                or UniversalTagNumber.BMPString or UniversalTagNumber.NumericString or UniversalTagNumber.VisibleString
                or UniversalTagNumber.T61String
                ? AsnDecoder.ReadCharacterString(value, AsnEncodingRules.BER, type, out _)
                : null;
        }
        catch (Exception e) when (e is AsnContentException or ArgumentException)
        {
            return null; // not a string type .NET can read: only a '#' hex value can match it
        }
    }

    /// <summary>RFC 2253 §3 grammar, with spaces tolerated around ',', '+' and '=' as §4 allows.</summary>
    private static string? Parse(string text, out List<List<Attribute>> rdns)
    {
        rdns = [];
        var bytes = ArrayPool<byte>.Shared.Rent(text.Length * 3 + 3);
        try
        {
            var rdn = new List<Attribute>();
            var i = 0;
            while (true)
            {
                while (i < text.Length && text[i] == ' ') i++;
                var typeStart = i;
                while (i < text.Length && text[i] is not ('=' or ',' or '+')) i++;
                var typeText = text.AsSpan(typeStart, i - typeStart).TrimEnd(' ');
                if (i == text.Length || text[i] != '=') return $"'{UntrustedText.Show(text.AsSpan(typeStart))}' at offset {typeStart} is not type=value";
                var oid = Oid(typeText);
                if (oid is null) return $"'{UntrustedText.Show(typeText)}' at offset {typeStart} is not an attribute type this decoder knows";
                i++;
                while (i < text.Length && text[i] == ' ') i++;

                Attribute attribute;
                if (i < text.Length && text[i] == '#')
                {
                    var start = ++i;
                    while (i < text.Length && char.IsAsciiHexDigit(text[i])) i++;
                    if ((i - start) % 2 != 0 || i == start) return $"the hex value at offset {start - 1} has an odd or zero number of digits";
                    attribute = new(oid, null, Convert.FromHexString(text.AsSpan(start, i - start)));
                    while (i < text.Length && text[i] == ' ') i++;
                }
                else
                {
                    var problem = ReadString(text, ref i, bytes, out var value);
                    if (problem is not null) return problem;
                    attribute = new(oid, value, null);
                }
                rdn.Add(attribute);
                if (i == text.Length) break;
                if (text[i] == ',' || text[i] == ';')
                {
                    rdns.Add(rdn);
                    rdn = [];
                }
                else if (text[i] != '+') return $"'{UntrustedText.Show(text.AsSpan(i))}' at offset {i} follows a value";
                i++;
            }
            rdns.Add(rdn);
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>A string value up to an unescaped ',', ';' or '+'; unescaped trailing spaces are not part of it.</summary>
    private static string? ReadString(string text, ref int i, byte[] bytes, out string? value)
    {
        value = null;
        var length = 0;
        var significant = 0; // bytes up to the last escaped or non-space character
        var quoted = i < text.Length && text[i] == '"';
        if (quoted) i++;
        while (i < text.Length)
        {
            var c = text[i];
            if (quoted && c == '"') { quoted = false; i++; significant = length; continue; }
            if (!quoted && c is ',' or ';' or '+') break;
            // '<', '>', '=' and a non-leading '#' are taken literally: OpenSSL's RFC 2253 output does not escape '='.
            if (c == '\\')
            {
                if (i + 2 < text.Length && char.IsAsciiHexDigit(text[i + 1]) && char.IsAsciiHexDigit(text[i + 2]))
                {
                    bytes[length++] = byte.Parse(text.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
                    i += 3;
                }
                else if (i + 1 < text.Length && text[i + 1] is ',' or '+' or '"' or '\\' or '<' or '>' or ';' or '#' or '=' or ' ')
                {
                    bytes[length++] = (byte)text[i + 1];
                    i += 2;
                }
                else return $"'\\' at offset {i} does not start an escape";
                significant = length;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsSurrogatePair(c, text[i + 1])) return $"offset {i} holds half a character";
                length += Encoding.UTF8.GetBytes(text.AsSpan(i, 2), bytes.AsSpan(length));
                i += 2;
            }
            else
            {
                length += Encoding.UTF8.GetBytes([c], bytes.AsSpan(length));
                i++;
            }
            if (c != ' ') significant = length;
        }
        if (quoted) return "a quoted value is never closed";
        try
        {
            value = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, significant);
            return null;
        }
        catch (DecoderFallbackException)
        {
            return "its \\XX escapes are not UTF-8";
        }
    }

    private static string? Oid(ReadOnlySpan<char> type)
    {
        if (type.StartsWith("OID.", StringComparison.OrdinalIgnoreCase)) type = type[4..];
        if (!type.IsEmpty && char.IsAsciiDigit(type[0]))
            return !type.ContainsAnyExcept("0123456789.") && !type.Contains("..", StringComparison.Ordinal) && type[^1] != '.' ? type.ToString() : null;
        return Keywords.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(type, out var oid) ? oid : null;
    }

    /// <summary>RFC 2253 §2.3 keywords plus those OpenSSL, Java and Windows print.</summary>
    private static readonly Dictionary<string, string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CN"] = "2.5.4.3", ["SN"] = "2.5.4.4", ["SURNAME"] = "2.5.4.4", ["SERIALNUMBER"] = "2.5.4.5", ["C"] = "2.5.4.6",
        ["L"] = "2.5.4.7", ["ST"] = "2.5.4.8", ["S"] = "2.5.4.8", ["STREET"] = "2.5.4.9", ["O"] = "2.5.4.10", ["OU"] = "2.5.4.11",
        ["T"] = "2.5.4.12", ["TITLE"] = "2.5.4.12", ["DESCRIPTION"] = "2.5.4.13", ["BUSINESSCATEGORY"] = "2.5.4.15",
        ["POSTALCODE"] = "2.5.4.17", ["NAME"] = "2.5.4.41", ["G"] = "2.5.4.42", ["GN"] = "2.5.4.42", ["GIVENNAME"] = "2.5.4.42",
        ["I"] = "2.5.4.43", ["INITIALS"] = "2.5.4.43", ["GENERATIONQUALIFIER"] = "2.5.4.44", ["DNQUALIFIER"] = "2.5.4.46",
        ["PSEUDONYM"] = "2.5.4.65", ["ORGANIZATIONIDENTIFIER"] = "2.5.4.97", ["DC"] = "0.9.2342.19200300.100.1.25",
        ["UID"] = "0.9.2342.19200300.100.1.1", ["E"] = "1.2.840.113549.1.9.1", ["EMAIL"] = "1.2.840.113549.1.9.1",
        ["EMAILADDRESS"] = "1.2.840.113549.1.9.1",
    };
}
