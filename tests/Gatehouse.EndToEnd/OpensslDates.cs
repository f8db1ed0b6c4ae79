using System.Globalization;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>A certificate's validity as openssl reads it: the judge balancers and servers use, not our own parser.</summary>
internal static class OpensslDates
{
    /// <summary>notAfter − notBefore of the PEM certificate in <paramref name="certificateFile"/>.</summary>
    public static async Task<TimeSpan> LifetimeAsync(string certificateFile)
    {
        var dates = (await Peer.RunAsync("openssl", "x509", "-in", certificateFile, "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601"))
            .EnsureSuccess("openssl x509 -dates").Stdout;
        return Date(dates, "notAfter") - Date(dates, "notBefore");
    }

    private static DateTimeOffset Date(string output, string field)
    {
        var line = output.Split('\n').Single(l => l.StartsWith(field + "=", StringComparison.Ordinal));
        return DateTimeOffset.ParseExact(line[(field.Length + 1)..].Trim(), "yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
    }
}
