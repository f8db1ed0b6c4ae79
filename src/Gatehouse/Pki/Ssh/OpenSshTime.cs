namespace Gatehouse.Pki.Ssh;

/// <summary>
/// "valid after"/"valid before" are uint64 seconds since 1970-01-01 (PROTOCOL.certkeys).
/// ssh-keygen writes 0xFFFFFFFFFFFFFFFF for "forever", far past what <see cref="DateTimeOffset"/>
/// holds, so <see cref="DateTimeOffset.MaxValue"/> stands for it in both directions instead of overflowing.
/// </summary>
internal static class OpenSshTime
{
    public const ulong Forever = ulong.MaxValue;

    private static readonly ulong MaxSeconds = (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>Whole seconds, truncated; times before 1970 become 0 (the request validator refuses them first).</summary>
    public static ulong ToWire(DateTimeOffset time) =>
        time == DateTimeOffset.MaxValue ? Forever : (ulong)Math.Max(0, time.ToUnixTimeSeconds());

    public static DateTimeOffset FromWire(ulong seconds) =>
        seconds >= MaxSeconds ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeSeconds((long)seconds);
}
