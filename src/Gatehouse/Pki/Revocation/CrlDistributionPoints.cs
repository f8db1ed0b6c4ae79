using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Revocation;

/// <summary>Reads the http(s) CRL locations of a certificate's CRL Distribution Points extension (RFC 5280 §4.2.1.13).</summary>
internal static class CrlDistributionPoints
{
    public const string Oid = "2.5.29.31";

    /// <summary>At most this many URLs are taken from one certificate.</summary>
    public const int MaxUrls = 4;

    /// <summary>The fullName URIs with scheme http or https, in order; empty when there are none or the extension is malformed.</summary>
    public static IReadOnlyList<Uri> Read(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions[Oid];
        if (extension is null) return [];
        var urls = new List<Uri>();
        try
        {
            var points = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (points.HasData && urls.Count < MaxUrls)
            {
                var point = points.ReadSequence();
                if (!point.HasData || !point.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0, true))) continue;
                var name = point.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true)); // distributionPoint
                if (!name.HasData || !name.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0, true))) continue;
                var fullName = name.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true)); // GeneralNames
                while (fullName.HasData && urls.Count < MaxUrls)
                {
                    var tag = fullName.PeekTag();
                    if (tag.HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 6)))
                    {
                        var text = fullName.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 6));
                        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.Host.Length > 0)
                            urls.Add(url);
                    }
                    else fullName.ReadEncodedValue();
                }
            }
        }
        catch (Exception e) when (e is AsnContentException or ArgumentException)
        {
            // A malformed extension names no usable location; the CA's other sources (or on_unknown) decide.
        }
        return urls;
    }
}
