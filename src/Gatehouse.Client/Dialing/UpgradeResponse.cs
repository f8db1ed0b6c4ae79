using System.Text;

namespace Gatehouse.Client.Dialing;

/// <summary>An HTTP/1.1 response head (and, when it is not a 101, the start of its body) read off an upgrade request.</summary>
/// <param name="Leftover">Bytes that arrived after the head of a 101: the start of the upgraded stream.</param>
internal sealed record UpgradeResponse(int Status, string Reason, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body, ReadOnlyMemory<byte> Leftover)
{
    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)) is { Key: not null } h ? h.Value : null;

    /// <summary>True when a header lists <paramref name="token"/> among its comma-separated values.</summary>
    public bool HasToken(string name, string token) =>
        Headers.Any(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)
                         && h.Value.Split(',', StringSplitOptions.TrimEntries).Contains(token, StringComparer.OrdinalIgnoreCase));

    public string StatusLine => Reason.Length > 0 ? $"{Status} {Reason}" : Status.ToString();
}

/// <summary>
/// Reads an upgrade response by hand: ClientWebSocket does not do a custom upgrade, and HttpClient gives no stream
/// after a 101. The head is bounded (<see cref="MaxHeadSize"/>) and looked for in what has arrived so far only from
/// where the last search stopped (STYLE: mark bytes examined), so a one-byte-at-a-time sender costs nothing extra.
/// </summary>
internal static class UpgradeResponseReader
{
    public const int MaxHeadSize = 16 * 1024, MaxBodyKept = 200;
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    public static async ValueTask<(UpgradeResponse? Response, string? Error)> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxHeadSize + 4096];
        int filled = 0, searched = 0, headEnd = -1;
        while (headEnd < 0)
        {
            if (filled >= MaxHeadSize) return (null, $"the answer's header block is larger than {MaxHeadSize / 1024} KiB");
            var read = await stream.ReadAsync(buffer.AsMemory(filled, buffer.Length - filled), cancellationToken);
            if (read == 0)
                return (null, filled == 0 ? "the connection closed without an answer" : "the connection closed inside the answer's header block");
            filled += read;
            var at = buffer.AsSpan(searched, filled - searched).IndexOf(HeadEnd);
            if (at >= 0) headEnd = searched + at + HeadEnd.Length;
            else searched = Math.Max(0, filled - (HeadEnd.Length - 1));
        }
        if (headEnd > MaxHeadSize) return (null, $"the answer's header block is larger than {MaxHeadSize / 1024} KiB");
        var (head, error) = ParseHead(Encoding.Latin1.GetString(buffer, 0, headEnd - HeadEnd.Length));
        if (head is null) return (null, error);
        var leftover = buffer.AsMemory(headEnd, filled - headEnd);
        if (head.Status == 101) return (head with { Leftover = leftover.ToArray() }, null);
        return (head with { Body = await ReadBodyStartAsync(stream, head, leftover, cancellationToken) }, null);
    }

    /// <summary>Parses "HTTP/1.1 101 Switching Protocols\r\nName: value\r\n..." (no final blank line).</summary>
    public static (UpgradeResponse? Head, string? Error) ParseHead(string head)
    {
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || status[1].Length != 3 || !int.TryParse(status[1], out var code))
            return (null, $"the answer is not HTTP/1.x (it starts with '{Printable(lines[0])}')");
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) return (null, $"the answer has a malformed header line '{Printable(line)}'");
            headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        return (new UpgradeResponse(code, status.Length > 2 ? status[2].Trim() : "", headers, "", ReadOnlyMemory<byte>.Empty), null);
    }

    /// <summary>The first <see cref="MaxBodyKept"/> characters of a refusal's body, for the user: a balancer's error page
    /// usually says what it disliked. Waits briefly only; a body that never comes is no reason to hang.</summary>
    private static async Task<string> ReadBodyStartAsync(Stream stream, UpgradeResponse head, ReadOnlyMemory<byte> leftover, CancellationToken cancellationToken)
    {
        var wanted = int.TryParse(head.Header("Content-Length"), out var length) ? Math.Min(length, MaxBodyKept * 4) : MaxBodyKept * 4;
        var chunked = head.HasToken("Transfer-Encoding", "chunked");
        if (chunked) wanted = MaxBodyKept * 4;
        var body = new byte[Math.Max(wanted, leftover.Length)];
        leftover.CopyTo(body);
        var filled = leftover.Length;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            while (filled < wanted)
            {
                var read = await stream.ReadAsync(body.AsMemory(filled, wanted - filled), timeout.Token);
                if (read == 0) break;
                filled += read;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // What arrived is enough for a hint.
        }
        var raw = Encoding.UTF8.GetString(body, 0, Math.Min(filled, wanted));
        var text = (chunked ? Dechunk(raw) : raw).ReplaceLineEndings(" ").Trim();
        return text.Length > MaxBodyKept ? text[..MaxBodyKept] + "…" : text;
    }

    /// <summary>The data of a chunked body (RFC 9112 §7.1), as far as it arrived; extensions and trailers dropped.</summary>
    public static string Dechunk(string raw)
    {
        var text = new StringBuilder();
        var at = 0;
        while (at < raw.Length)
        {
            var lineEnd = raw.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0) break;
            var sizeText = raw[at..lineEnd].Split(';')[0].Trim();
            if (!int.TryParse(sizeText, System.Globalization.NumberStyles.HexNumber, null, out var size) || size <= 0) break;
            var start = lineEnd + 2;
            text.Append(raw.AsSpan(start, Math.Min(size, raw.Length - start)));
            at = start + size + 2;
        }
        return text.ToString();
    }

    private static string Printable(string text)
    {
        var clean = new string([.. text.Take(60).Select(c => c is >= ' ' and < '\x7f' ? c : '?')]);
        return text.Length > 60 ? clean + "…" : clean;
    }
}
