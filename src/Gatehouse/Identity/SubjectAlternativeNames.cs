using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Identity;

/// <summary>The e-mail, DNS and URI names of a certificate's subjectAltName (RFC 5280 §4.2.1.6).</summary>
internal sealed record SubjectAlternativeNames(IReadOnlyList<string> Emails, IReadOnlyList<string> DnsNames, IReadOnlyList<string> Uris)
{
    public static SubjectAlternativeNames Empty { get; } = new([], [], []);

    /// <summary>Reads the extension; a malformed one reads as empty (the chain check has judged the certificate already).</summary>
    public static SubjectAlternativeNames Of(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions["2.5.29.17"];
        if (extension is null) return Empty;
        List<string> emails = [], dns = [], uris = [];
        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    names.ReadEncodedValue();
                    continue;
                }
                switch (tag.TagValue)
                {
                    case 1: emails.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;   // rfc822Name
                    case 2: dns.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;      // dNSName
                    case 6: uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag)); break;     // uniformResourceIdentifier
                    default: names.ReadEncodedValue(); break;
                }
            }
        }
        catch (AsnContentException)
        {
            return Empty;
        }
        return new SubjectAlternativeNames(emails, dns, uris);
    }
}
