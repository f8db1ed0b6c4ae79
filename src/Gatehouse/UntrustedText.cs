using System.Text;

namespace Gatehouse;

/// <summary>How text from the network (a header, a certificate name) appears in an error sentence or a log line.</summary>
internal static class UntrustedText
{
    /// <summary>A short, log-safe rendering: printable ASCII as is, everything else escaped, at most
    /// <paramref name="max"/> characters.</summary>
    public static string Show(ReadOnlySpan<char> text, int max = 24)
    {
        var builder = new StringBuilder(Math.Min(text.Length, max) + 8);
        foreach (var c in text[..Math.Min(text.Length, max)])
        {
            if (c is >= ' ' and <= '~' and not '\'' and not '\\') builder.Append(c);
            else if (c <= 0xFF) builder.Append($"\\x{(int)c:X2}");
            else builder.Append($"\\u{(int)c:X4}");
        }
        if (text.Length > max) builder.Append('…');
        return builder.ToString();
    }
}
