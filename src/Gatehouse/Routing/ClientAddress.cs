using System.Net;

namespace Gatehouse.Routing;

/// <summary>
/// Who the client is when requests pass through balancers: X-Forwarded-For is believed only from a trusted peer, and
/// walked from the right past trusted hops (each hop appends the address it saw, so the entries left of the last
/// trusted hop were written by the client and prove nothing). The first untrusted address is the client. Unlike a
/// rule that refuses any header with several entries, this keeps users behind corporate proxies working.
/// </summary>
internal static class ClientAddress
{
    /// <summary>Most X-Forwarded-For entries looked at, so a long forged header costs nothing.</summary>
    public const int HopLimit = 8;

    /// <param name="ignoredForwardedFor">True when the peer sent X-Forwarded-For but is not trusted to (log it).</param>
    public static IPAddress Resolve(IPAddress peer, IReadOnlyList<string> forwardedFor, Func<IPAddress, bool> isTrusted, out bool ignoredForwardedFor)
    {
        peer = Normalize(peer);
        ignoredForwardedFor = false;
        if (forwardedFor.Count == 0) return peer;
        if (!isTrusted(peer))
        {
            ignoredForwardedFor = true;
            return peer;
        }
        var current = peer;
        var hops = 0;
        for (var line = forwardedFor.Count - 1; line >= 0; line--)
        {
            var entries = forwardedFor[line].Split(',');
            for (var i = entries.Length - 1; i >= 0; i--)
            {
                if (++hops > HopLimit || !TryParse(entries[i], out var address)) return current;
                current = address;
                if (!isTrusted(address)) return address;
            }
        }
        return current;
    }

    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Reads "203.0.113.7", "203.0.113.7:5555", "[2001:db8::1]:443" or "2001:db8::1".</summary>
    private static bool TryParse(string entry, out IPAddress address)
    {
        var text = entry.Trim();
        if (text.StartsWith('[') && text.IndexOf(']') is var close and > 0) text = text[1..close];
        else if (text.Count(c => c == ':') == 1) text = text[..text.IndexOf(':')];
        if (IPAddress.TryParse(text, out var parsed))
        {
            address = Normalize(parsed);
            return true;
        }
        address = IPAddress.None;
        return false;
    }
}
