using System.Text;
using Gatehouse.ForwardedCerts.Formats;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>What a forged-identity row expects to find in the audit trail for its refusal.</summary>
internal enum AuditedAs
{
    /// <summary>forged_client_cert_header from the row's source: headers from an address that is no front.</summary>
    ForgedFromSource,
    /// <summary>forged_client_cert_header naming the front and the header: a front passed on a name it does not send.</summary>
    ForeignToFront,
    /// <summary>client_cert.refused for the front, with the refusal the client was answered.</summary>
    RefusedByFront,
}

/// <summary>One forgery of one format: the header lines a client sends, hoping Gatehouse believes them.</summary>
internal sealed record ForgedIdentityRow(string Format, string Front, string Kind, IReadOnlyList<(string Name, string Value)> Headers,
    AuditedAs Audited, int Untrusted)
{
    public override string ToString() => $"{Format} / {Kind}";
}

/// <summary>
/// The rows of the forged-identity matrix for one format, built from real certificates: every header of the format in its
/// own encoding (<see cref="ForgeryTests.ForgedHeaders"/>) for alice, a valid Gatehouse user the forger is not, then
/// altered the ways a forger alters them.
/// </summary>
internal static class ForgedIdentityRows
{
    /// <summary>Over DecodeLimits.MaxHeaderBytes (16 KiB).</summary>
    private const int Oversize = 17 * 1024;

    public static IEnumerable<ForgedIdentityRow> For(string formatId, int index, string alice, string bob, string otherCa, string revoked)
    {
        var front = "f-" + formatId;
        var format = ForwardedCertificateFormats.ById[formatId];
        var certRole = format.DefaultHeaders.ContainsKey(HeaderRole.Cert) ? HeaderRole.Cert : HeaderRole.Leaf;
        var certHeader = format.DefaultHeaders[certRole];
        var all = ForgeryTests.ForgedHeaders(formatId, alice);
        var bobs = ForgeryTests.ForgedHeaders(formatId, bob);
        var aliceCert = all.First(h => h.Name == certHeader).Value;
        var bobCert = bobs.First(h => h.Name == certHeader).Value;
        IReadOnlyList<(string, string)> WithCert(string name, string value) =>
            [.. all.Select(h => h.Name == certHeader ? (name, value) : h)];
        ForgedIdentityRow Row(string kind, IReadOnlyList<(string, string)> headers, AuditedAs audited = AuditedAs.RefusedByFront, int untrusted = 0) =>
            new(formatId, front, kind, headers, audited, untrusted);

        yield return Row("from an untrusted address", all, AuditedAs.ForgedFromSource, untrusted: index + 1);
        yield return Row("duplicate header, another user's first", [(certHeader, bobCert), .. all]);
        yield return Row("duplicate header, an empty one first", [(certHeader, ""), .. all]);
        yield return Row("case variant beside the header", [(certHeader.ToLowerInvariant(), bobCert), .. WithCert(certHeader.ToUpperInvariant(), aliceCert)]);
        yield return Row("'_' variant instead of the header", WithCert(certHeader.Replace('-', '_'), aliceCert), AuditedAs.ForeignToFront);
        yield return Row("multi-element value", WithCert(certHeader, $"{aliceCert},{bobCert}"));
        yield return Row("oversize value", WithCert(certHeader, Pad(aliceCert)));
        yield return Row("bad encoding: a stray character", WithCert(certHeader, aliceCert.Insert(aliceCert.Length / 2, "*")));
        yield return Row("bad encoding: a broken escape", WithCert(certHeader, aliceCert.Insert(aliceCert.Length / 2, "%Z")));
        yield return Row("bad encoding: truncated", WithCert(certHeader, aliceCert[..(aliceCert.Length / 2)]));
        yield return Row("a valid certificate of another CA", ForgeryTests.ForgedHeaders(formatId, otherCa));
        yield return Row("a valid certificate of a revoked user", ForgeryTests.ForgedHeaders(formatId, revoked));
    }

    /// <summary>The value made longer than the limit by repeating its own characters (so it stays in the format's alphabet).</summary>
    private static string Pad(string value)
    {
        var padded = new StringBuilder(value);
        while (padded.Length < Oversize) padded.Append(value);
        return padded.ToString();
    }

    /// <summary>Header lines for curl's <c>-H @file</c>; an empty value is written "Name;" (curl's way to send it).</summary>
    public static string CurlHeaderFile(IEnumerable<(string Name, string Value)> headers) =>
        string.Concat(headers.Select(h => h.Value.Length == 0 ? $"{h.Name};\n" : $"{h.Name}: {h.Value}\n"));
}
