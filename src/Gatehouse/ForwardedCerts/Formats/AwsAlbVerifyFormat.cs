using System.Globalization;
using System.Security.Cryptography.X509Certificates;

using Gatehouse.X500;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// AWS ALB in verify mode (spec §1.4): ALB checked the chain against its trust store, then sends the leaf alone
/// (-Leaf, URL-encoded PEM) with its serial (hex), issuer and subject (RFC 2253) and validity
/// (NotBefore=…;NotAfter=…). There is no verdict header: only verified handshakes reach the target, so arrival means
/// Verified=true (spec §1.4 notes). Each description is cross-checked against the leaf; a mismatch means the headers
/// were not all written by ALB for this certificate, and is refused. ALB always sends all five, so a missing one is
/// refused too (most likely a header the operator renamed at ALB, spec §1.5, but not here).
/// </summary>
internal sealed class AwsAlbVerifyFormat() : ForwardedCertificateFormat("aws-alb-verify", new Dictionary<HeaderRole, string>
{
    [HeaderRole.Leaf] = "X-Amzn-Mtls-Clientcert-Leaf",
    [HeaderRole.Serial] = "X-Amzn-Mtls-Clientcert-Serial-Number",
    [HeaderRole.Issuer] = "X-Amzn-Mtls-Clientcert-Issuer",
    [HeaderRole.Subject] = "X-Amzn-Mtls-Clientcert-Subject",
    [HeaderRole.Validity] = "X-Amzn-Mtls-Clientcert-Validity",
})
{
    private static readonly BalancerClaims VerifiedByAlb = new(true, null);

    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var leaf = headers.Read(HeaderRole.Leaf);
        var serial = headers.Read(HeaderRole.Serial);
        // Distinguished names are comma-separated by nature; duplicates are still caught by the line count.
        var issuer = headers.Read(HeaderRole.Issuer, commaMeansJoined: false);
        var subject = headers.Read(HeaderRole.Subject, commaMeansJoined: false);
        var validity = headers.Read(HeaderRole.Validity);
        HeaderValue[] descriptions = [serial, issuer, subject, validity];
        foreach (var header in (HeaderValue[])[leaf, .. descriptions])
            if (header.Error is not null) return PresentedDecode.Refused(header.Error);

        if (leaf.IsAbsent)
        {
            var stray = descriptions.FirstOrDefault(header => header.IsPresent);
            return stray.IsPresent ? PresentedDecode.Refused($"{stray.Name} was sent without {leaf.Name}") : PresentedDecode.Absent();
        }
        var missing = descriptions.FirstOrDefault(header => header.IsAbsent);
        if (missing.Name is not null)
            return PresentedDecode.Refused($"{missing.Name} is missing beside {leaf.Name}; ALB verify mode sends both, so check the header names");

        var certificates = new PresentedChain(leaf.Text!.Length);
        var error = CertificateEncodings.ReadUrlEncodedPem(leaf.Name, leaf.Text!, maxCertificates: 1, certificates);
        if (error is not null) return PresentedDecode.Refused(error, discard: certificates);
        // The descriptions are checked against the parsed leaf, which a verdict-cache hit never parses: their texts go
        // into the cache key (LeafCheck.Input), so a hit means this very leaf with these very descriptions passed.
        var check = new LeafCheck([serial.Text!, issuer.Text!, subject.Text!, validity.Text!], certificate =>
            CheckSerial(serial, certificate)
            ?? Prefix(issuer, DistinguishedNames.Compare(issuer.Text!.Trim(), certificate.IssuerName))
            ?? Prefix(subject, DistinguishedNames.Compare(subject.Text!.Trim(), certificate.SubjectName))
            ?? CheckValidity(validity, certificate));
        return PresentedDecode.Decoded(certificates, VerifiedByAlb, check);
    }

    private static string? Prefix(HeaderValue header, string? problem) => problem is null ? null : $"{header.Name} {problem}";

    /// <summary>AWS shows upper-case hex without separators; leading zeros are unspecified (spec §1.4), so ignored.</summary>
    private static string? CheckSerial(HeaderValue header, X509Certificate2 leaf)
    {
        var text = header.Text.AsSpan().Trim(HeaderValue.Whitespace);
        foreach (var c in text)
            if (!char.IsAsciiHexDigit(c))
                return $"{header.Name} is '{UntrustedText.Show(text)}', which is not a hexadecimal serial number";
        var claimed = text.TrimStart('0');
        var actual = leaf.SerialNumber.AsSpan().TrimStart('0');
        return claimed.Equals(actual, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"{header.Name} says {UntrustedText.Show(text, 80)} but the certificate's serial number is {leaf.SerialNumber}";
    }

    private static readonly string[] TimeFormats =
        ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz"];

    /// <summary>"NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z" (spec §1.4), compared to the second.</summary>
    private static string? CheckValidity(HeaderValue header, X509Certificate2 leaf)
    {
        DateTimeOffset? notBefore = null, notAfter = null;
        var text = header.Text.AsSpan().Trim(HeaderValue.Whitespace);
        foreach (var range in text.Split(';'))
        {
            var part = text[range].Trim(' ');
            var equals = part.IndexOf('=');
            var key = equals < 0 ? part : part[..equals].Trim(' ');
            var isBefore = key.Equals("NotBefore", StringComparison.OrdinalIgnoreCase);
            if (equals < 0 || !(isBefore || key.Equals("NotAfter", StringComparison.OrdinalIgnoreCase)) || (isBefore ? notBefore : notAfter) is not null)
                return $"{header.Name} is not NotBefore=…;NotAfter=…: '{UntrustedText.Show(part)}' is unexpected";
            if (!DateTimeOffset.TryParseExact(part[(equals + 1)..].Trim(' '), TimeFormats, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
                return $"{header.Name} has '{UntrustedText.Show(part, 60)}', which is not an ISO 8601 UTC time";
            if (isBefore) notBefore = time;
            else notAfter = time;
        }
        if (notBefore is null || notAfter is null) return $"{header.Name} is not NotBefore=…;NotAfter=…: one of the two is missing";
        if (ToSecond(notBefore.Value) != ToSecond(leaf.NotBefore) || ToSecond(notAfter.Value) != ToSecond(leaf.NotAfter))
            return $"{header.Name} says '{UntrustedText.Show(text, 80)}' but the certificate is valid from "
                + $"{ToSecond(leaf.NotBefore):yyyy-MM-ddTHH:mm:ssZ} to {ToSecond(leaf.NotAfter):yyyy-MM-ddTHH:mm:ssZ}";
        return null;
    }

    private static DateTime ToSecond(DateTimeOffset time) => ToSecond(time.UtcDateTime);

    private static DateTime ToSecond(DateTime time)
    {
        var utc = time.ToUniversalTime();
        return new DateTime(utc.Ticks - utc.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
