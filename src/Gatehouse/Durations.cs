using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse;

/// <summary>Durations as people write them in configuration, role options and flags: "12h", "30m", "1h30m", "7d", "90s".</summary>
internal static partial class Durations
{
    [GeneratedRegex(@"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var match = Pattern().Match(text.Trim());
        if (!match.Success) return false;
        try
        {
            long Part(int group) => match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
            duration = TimeSpan.FromDays(Part(1)) + TimeSpan.FromHours(Part(2)) + TimeSpan.FromMinutes(Part(3)) + TimeSpan.FromSeconds(Part(4));
        }
        catch (Exception e) when (e is OverflowException or ArgumentOutOfRangeException)
        {
            return false;
        }
        return duration > TimeSpan.Zero;
    }

    public static string Format(TimeSpan duration) =>
        duration.TotalDays >= 1 && duration.Hours == 0 && duration.Minutes == 0 ? $"{(int)duration.TotalDays}d"
        : duration.Minutes == 0 && duration.Seconds == 0 ? $"{(int)duration.TotalHours}h"
        : $"{(int)duration.TotalMinutes}m";
}
