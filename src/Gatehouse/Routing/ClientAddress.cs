using System.Net;

namespace Gatehouse.Routing;

/// <summary>
/// Who the client is when requests pass through balancers: X-Forwarded-For is believed only from a trusted peer, and
/// walked from the right past trusted hops (each hop appends the address it saw, so the entries left of the last
/// trusted hop were written by the client and prove nothing). The first untrusted address is the client. Unlike a
/// rule that refuses any header with several entries, this keeps users behind corporate proxies working. The one
/// reader of X-Forwarded-For: the proxy's outgoing header is built from <see cref="ForwardedClient.Claimed"/> too.
/// </summary>
internal static class ClientAddress
{
    /// <summary>Most X-Forwarded-For entries looked at, so a long forged header costs nothing.</summary>
    public const int HopLimit = 8;

    /// <param name="ignoredForwardedFor">True when the peer sent X-Forwarded-For but is not trusted to (log it).</param>
    public static IPAddress Resolve(IPAddress peer, IReadOnlyList<string> forwardedFor, Func<IPAddress, bool> isTrusted, out bool ignoredForwardedFor) =>
        Walk(peer, forwardedFor, isTrusted, out ignoredForwardedFor).Client;

    /// <summary>The client, as <see cref="Resolve"/> finds it, and where in <paramref name="forwardedFor"/> it was found.</summary>
    public static ForwardedClient Walk(IPAddress peer, IReadOnlyList<string> forwardedFor, Func<IPAddress, bool> isTrusted, out bool ignoredForwardedFor)
    {
        peer = Normalize(peer);
        ignoredForwardedFor = false;
        // "Nothing taken from the header": the client is the peer and every entry is a claim.
        var unread = new ForwardedClient(peer, forwardedFor, forwardedFor.Count, 0);
        if (forwardedFor.Count == 0) return unread;
        if (!isTrusted(peer))
        {
            ignoredForwardedFor = true;
            return unread;
        }
        var found = unread;
        var hops = 0;
        for (var line = forwardedFor.Count - 1; line >= 0; line--)
        {
            var entries = forwardedFor[line].Split(',');
            for (var i = entries.Length - 1; i >= 0; i--)
            {
                if (++hops > HopLimit || !TryParse(entries[i], out var address)) return found;
                found = new ForwardedClient(address, forwardedFor, line, i);
                if (!isTrusted(address)) return found;
            }
        }
        return found;
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

/// <summary>The client an X-Forwarded-For walk ended at (<see cref="ClientAddress.Walk"/>), and where: line
/// <paramref name="Line"/>, entry <paramref name="Entry"/> of that line (<c>Line == ForwardedFor.Count</c>: the peer itself).</summary>
internal readonly record struct ForwardedClient(IPAddress Client, IReadOnlyList<string> ForwardedFor, int Line, int Entry)
{
    /// <summary>
    /// The entries left of the client's, as received (trimmed, empty ones left out): what the client, or hops Gatehouse
    /// does not trust, wrote. They prove nothing, and are only passed on, left of the address the proxy vouches for.
    /// Everything when the header was not believed; nothing when there was none.
    /// </summary>
    public IEnumerable<string> Claimed()
    {
        for (var line = 0; line < ForwardedFor.Count && line <= Line; line++)
        {
            // Split as the walk split, so that Entry counts the same entries.
            var entries = ForwardedFor[line].Split(',');
            var end = line < Line ? entries.Length : Entry;
            for (var i = 0; i < end; i++)
                if (entries[i].Trim() is { Length: > 0 } entry) yield return entry;
        }
    }
}
