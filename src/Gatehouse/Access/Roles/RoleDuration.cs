using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse.Access.Roles;

/// <summary>
/// Durations in role options as Teleport users write them: "8h", "30m", "1h30m", "2d", "90s".
/// The same grammar as the command line's Durations (Gatehouse.Cli); kept here because the core cannot see the CLI.
/// </summary>
internal static partial class RoleDuration
{
    [GeneratedRegex(@"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = Pattern().Match(text.Trim());
        if (text.Length == 0 || !match.Success)
        {
            return false;
        }
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
}
