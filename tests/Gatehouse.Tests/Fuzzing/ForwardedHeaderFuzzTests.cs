using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Testing.Fuzzing;
using Gatehouse.Tests.ForwardedCerts.Formats;
using Gatehouse.X500;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Fuzzing;

/// <summary>
/// The ten balancer header decoders and the RFC 2253 name parser behind the verify-mode formats. An input is a header
/// block ("Name: value" lines), so mutations reach names, duplicates and line splits as well as values; the seeds are
/// every format's valid headers carrying a real chain. A decoder gives Absent, Refused or Decoded, never an exception;
/// a Decoded leaf is the seed's own leaf, or (where no digest binds it) one its issuer never signed.
/// </summary>
public sealed class ForwardedHeaderFuzzTests(ITestOutputHelper output)
{
    public static TheoryData<string> FormatIds => new(ForwardedCertificateFormats.ById.Keys.Order(StringComparer.Ordinal));

    [Theory, MemberData(nameof(FormatIds))]
    public void Header_decoder(string formatId)
    {
        var pki = TestPki.Shared;
        var format = ForwardedCertificateFormats.ById[formatId];
        // Its own headers (most mutations start from them), then the other formats' for splices and for mixed header sets.
        var seeds = Enumerable.Repeat(Block(ValidHeaders.For(formatId)), 9)
            .Concat(ForwardedCertificateFormats.ById.Keys.Order(StringComparer.Ordinal).Where(id => id != formatId).Select(id => Block(ValidHeaders.For(id)))).ToList();
        var target = new FuzzTarget($"header-{formatId}", seeds)
        {
            Tokens = Mutator.Tokens("%", "%0A", "%3D", "%2B", "\"", ";", ",", ":", "=", "\\", "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
                "Cert=", "Chain=", "Hash=", "By=", "\n", "\t", " ", "SUCCESS", "true", "NONE"),
            ShortInputs = 1500,
            MemoryPerInputByte = 256,
        };
        var originalTbs = SignedCertificates.Tbs(pki.EcLeaf.RawData);
        Fuzz.Run(target, (input, _) =>
        {
            var headers = Parse(input);
            var result = format.Decode(headers, Encode.Defaults, new DecodeLimits());
            if (result.Status != DecodeStatus.Decoded) return result.Status.ToString();
            if (result.Leaf is null) throw new InvalidOperationException("Decoded without a leaf");
            if (result.Leaf.RawData.AsSpan().SequenceEqual(pki.EcLeaf.RawData)) return "Decoded, the seed's leaf";
            // The digest is checked when it is sent (all three formats make it optional); a mutation may remove it.
            if (ValidHeaders.CarriesDigest(formatId) && DigestSent(formatId, headers))
                throw new InvalidOperationException("decoded an altered leaf despite the digest header");
            var tbs = SignedCertificates.Tbs(result.Leaf.RawData);
            if (tbs is not null && !tbs.AsSpan().SequenceEqual(originalTbs) && SignedCertificates.SignedBy(result.Leaf.RawData, pki.EcIntermediateKey))
                throw new InvalidOperationException("decoded a different certificate that the issuer signed");
            return "Decoded, altered and unsigned";
        }, output.WriteLine);
    }

    [Fact]
    public void Rfc2253_names()
    {
        string[] seeds =
        [
            TestPki.EcLeafSubject2253, TestPki.EcIntermediate2253, "CN=#0c03616263,O=Example", "CN=a+CN=b,DC=example,DC=com",
            @"CN=Sm\C3\A9th\, J.,OU=Sales", "1.2.840.113549.1.9.1=#160d61406578616d706c652e636f6d,CN=x", "CN= spaced \\ ,O=\\#hash",
        ];
        var target = new FuzzTarget("x500-rfc2253", [.. seeds.Select(Encoding.UTF8.GetBytes)])
        {
            Tokens = Mutator.Tokens("\\", "\\,", "\\2C", "#", "+", ",", ";", "=", "\"", "CN=", "2.5.4.3=", "#0c00", " "),
            ShortInputs = 10000,
        };
        var subject = TestPki.Shared.EcLeaf.SubjectName;
        Fuzz.Run(target, (input, _) =>
        {
            var text = Encoding.UTF8.GetString(input);
            var syntax = DistinguishedNames.CheckSyntax(text);
            var compared = DistinguishedNames.Compare(text, subject);
            if (syntax is not null && compared is null) throw new InvalidOperationException($"a name with bad syntax ({syntax}) matched a certificate");
            return syntax is not null ? "bad syntax" : compared is null ? "same name" : "another name";
        }, output.WriteLine);
    }

    [Fact]
    public void X500_names_in_der()
    {
        var pki = TestPki.Shared;
        var target = new FuzzTarget("x500-der", [pki.EcLeaf.SubjectName.RawData, pki.EcIntermediate.SubjectName.RawData, pki.RsaLeaf.SubjectName.RawData])
        {
            ShortInputs = 10000,
        };
        Fuzz.Run(target, (input, _) =>
        {
            X500DistinguishedName name;
            try
            {
                name = new X500DistinguishedName(input);
            }
            catch (CryptographicException)
            {
                return "refused by the platform";
            }
            var compared = DistinguishedNames.Compare(TestPki.EcLeafSubject2253, name);
            return compared is null ? "same name" : compared.StartsWith("says", StringComparison.Ordinal) ? "another name" : "unreadable";
        }, output.WriteLine);
    }

    private static bool DigestSent(string formatId, ReceivedHeaders headers) => formatId switch
    {
        "envoy-xfcc" => headers.Get("x-forwarded-client-cert").Any(v => v.Contains("hash=", StringComparison.OrdinalIgnoreCase)),
        "gcp" => headers.Has("X-Client-Cert-Hash"),
        _ => headers.Has("Cf-Client-Cert-Sha256"),
    };

    private static byte[] Block((string Name, string Value)[] lines) =>
        Encoding.Latin1.GetBytes(string.Concat(lines.Select(l => $"{l.Name}: {l.Value}\n")));

    /// <summary>Header lines as a server hands them over: split at the first ':', the value's leading blanks dropped.</summary>
    private static ReceivedHeaders Parse(byte[] block)
    {
        var lines = new List<(string, string)>();
        foreach (var line in Encoding.Latin1.GetString(block).Split('\n'))
            if (line.IndexOf(':') is > 0 and var colon)
                lines.Add((line[..colon], line[(colon + 1)..].TrimStart(' ', '\t')));
        return ReceivedHeaders.Of([.. lines]);
    }
}
