using System.Text;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// The one value of a header after the checks every format shares: sent once, within the size limit and, for
/// single-valued headers, free of commas. <see cref="Text"/> is the value as received (not trimmed, so offsets in
/// error sentences match what the operator sees); null with no <see cref="Error"/> means absent.
/// </summary>
internal readonly record struct HeaderValue(string Name, string? Text, string? Error)
{
    public bool IsAbsent => Text is null && Error is null;

    public bool IsPresent => Text is not null;

    /// <param name="commaMeansJoined">For headers that carry one item: a comma can only come from two copies that a
    /// proxy joined into one line (RFC 9110 §5.3), so it is refused rather than guessed at (spec §6.1 item 4).</param>
    public static HeaderValue Read(ReceivedHeaders headers, string name, DecodeLimits limits, bool commaMeansJoined)
    {
        var lines = headers.Get(name);
        if (lines.Count == 0) return new(name, null, null);
        // Spec §1.7 and §6.1: a balancer that appends instead of replacing leaves the client's forged copy beside its own.
        if (lines.Count > 1) return new(name, null, $"header {name} was sent {lines.Count} times; exactly one is accepted, since a second copy may be forged");
        var value = lines[0];
        if (value.Length > limits.MaxHeaderBytes || Encoding.UTF8.GetByteCount(value) > limits.MaxHeaderBytes)
            return new(name, null, $"header {name} is {Encoding.UTF8.GetByteCount(value)} bytes long, over the limit of {limits.MaxHeaderBytes}");
        // An empty value is how nginx, Caddy and GCP say "no certificate" when the variable is empty.
        if (value.AsSpan().Trim(Whitespace).IsEmpty) return new(name, null, null);
        if (commaMeansJoined && value.Contains(','))
            return new(name, null, $"header {name} contains a comma: it looks like two copies joined into one value, and it carries only one item");
        return new(name, value, null);
    }

    public const string Whitespace = " \t\r\n";
}
