using System.Text;

namespace Gatehouse.Proxy.Services.Databases;

/// <summary>The text of a statement as the audit keeps it: its first bytes, decoded as UTF-8.</summary>
internal static class StatementText
{
    /// <summary>UTF-8 text that may have been cut inside a character: the broken tail is dropped, not replaced.</summary>
    public static string DecodeCut(ReadOnlySpan<byte> text, bool cut)
    {
        if (cut)
            for (var back = 1; back <= 3 && back <= text.Length; back++)
            {
                var b = text[^back];
                if ((b & 0xC0) != 0x80)
                {
                    var width = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                    if (width > back) text = text[..^back];
                    break;
                }
            }
        return Encoding.UTF8.GetString(text);
    }
}
