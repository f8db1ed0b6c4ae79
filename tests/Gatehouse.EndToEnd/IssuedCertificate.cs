namespace Gatehouse.EndToEnd;

/// <summary>A certificate and key in PEM files; <see cref="Serial"/> is upper-case hex (empty for one Gatehouse did not issue).</summary>
internal sealed record IssuedCertificate(string Certificate, string Key, string Serial)
{
    /// <summary>The folder holding the pair: what `gatehouse login --identity` takes.</summary>
    public string Directory => Path.GetDirectoryName(Certificate)!;
}
