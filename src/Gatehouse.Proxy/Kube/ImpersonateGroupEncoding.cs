using System.Text;

namespace Gatehouse.Proxy.Kube;

/// <summary>
/// Sends several groups as several <c>Impersonate-Group</c> header lines over HTTP/1.1. The API server reads every line
/// as one group and does not split on commas, but HttpClient folds the values of one header into a single
/// "a, b" line (for HTTP/1.1 and HTTP/2 alike), which would impersonate one group named "a, b". So the groups travel as one
/// value joined by <see cref="LineBreak"/>, and this encoding — chosen for that header only, through
/// <c>SocketsHttpHandler.RequestHeaderEncodingSelector</c> — writes each <see cref="LineBreak"/> as the end of a line and
/// the start of the next <c>Impersonate-Group:</c> line. Only valid on HTTP/1.1 (the kube upstream is pinned to it).
/// Groups are checked by <see cref="IsSendable"/> first, so no group can add anything but groups.
/// </summary>
internal sealed class ImpersonateGroupEncoding : Encoding
{
    public const string GroupHeader = "Impersonate-Group";

    /// <summary>A private-use character that never appears in a sendable group.</summary>
    public const char LineBreak = '\uE000';

    private static readonly byte[] NextLine = Encoding.ASCII.GetBytes($"\r\n{GroupHeader}: ");

    public static readonly ImpersonateGroupEncoding Instance = new();

    /// <summary>Visible ASCII and spaces only: what a header line can carry without encoding questions.</summary>
    public static bool IsSendable(string group) => group.Length > 0 && group.All(c => c is >= ' ' and <= '~');

    public override int GetByteCount(char[] chars, int index, int count)
    {
        var bytes = 0;
        for (var i = index; i < index + count; i++) bytes += chars[i] == LineBreak ? NextLine.Length : 1;
        return bytes;
    }

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex)
    {
        var start = byteIndex;
        for (var i = charIndex; i < charIndex + charCount; i++)
        {
            var c = chars[i];
            if (c == LineBreak)
            {
                NextLine.CopyTo(bytes, byteIndex);
                byteIndex += NextLine.Length;
            }
            else bytes[byteIndex++] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
        }
        return byteIndex - start;
    }

    public override int GetCharCount(byte[] bytes, int index, int count) => count;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
    {
        for (var i = 0; i < byteCount; i++) chars[charIndex + i] = (char)bytes[byteIndex + i];
        return byteCount;
    }

    public override int GetMaxByteCount(int charCount) => (charCount + 1) * NextLine.Length;

    public override int GetMaxCharCount(int byteCount) => byteCount;
}
