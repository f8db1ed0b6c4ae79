using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Pki.Revocation;

/// <summary>
/// The on-disk copy of CRLs fetched from URLs (issue 16): <c>&lt;hash&gt;.crl</c> is the last CRL that was fetched and
/// verified, <c>&lt;hash&gt;.error</c> says why the latest fetch failed, <c>&lt;hash&gt;.etag</c> holds the validators for a
/// conditional GET. The trust-store loader reads these files like any CRL file, so a restart without network still has
/// the last good copy, and the fetcher and the loader share nothing but the directory.
/// </summary>
internal static class CrlCache
{
    public static string CrlPath(string directory, Uri url) => Base(directory, url) + ".crl";

    public static string ErrorPath(string directory, Uri url) => Base(directory, url) + ".error";

    public static string ValidatorsPath(string directory, Uri url) => Base(directory, url) + ".etag";

    /// <summary>The URL as messages and logs show it: user information (a password) removed.</summary>
    public static string Display(Uri url) =>
        url.IsAbsoluteUri ? url.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped) : url.ToString();

    /// <summary>Writes through a temporary file and a rename, so a reader sees the old file or the new one, never half.</summary>
    public static async Task WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        await File.WriteAllBytesAsync(temporary, contents, cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }

    private static string Base(string directory, Uri url) =>
        Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.AbsoluteUri)))[..32]);
}
