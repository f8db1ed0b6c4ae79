using Gatehouse.Pki.Revocation;

namespace Gatehouse.Cli.Configuration;

/// <summary>
/// <c>trust.revocation</c>: one entry per company CA, naming the CA (a PEM file or its subject DN) and where its
/// revocation information comes from, with what to do when it is unknown or stale. Every problem names its key.
/// </summary>
internal static class RevocationConfig
{
    /// <summary>Largest CRL URL we accept in configuration (a sanity cap, not a protocol limit).</summary>
    private const int MaxUrlLength = 2048;

    public static IReadOnlyList<RevocationPolicy> Policies(List<ConfigFile.RevocationSection>? sections, Func<string, string> resolve, List<string> errors)
    {
        var policies = new List<RevocationPolicy>();
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"trust.revocation[{i}]";
            if (section is null) { errors.Add($"{key}: is empty; give at least ca and crl_files or crl_urls"); continue; }
            string ca;
            if (string.IsNullOrWhiteSpace(section.Ca))
            {
                errors.Add($"{key}.ca: required: the CA's PEM certificate file or its subject DN (e.g. \"CN=Corp Issuing, O=Corp\")");
                ca = "";
            }
            else ca = DistinguishedNames.IsDistinguishedName(section.Ca) && !File.Exists(resolve(section.Ca)) ? section.Ca.Trim() : resolve(section.Ca);

            var urls = new List<Uri>();
            var urlTexts = section.CrlUrls ?? [];
            for (var u = 0; u < urlTexts.Count; u++)
            {
                if (urlTexts[u] is { Length: > 0 and <= MaxUrlLength } text && Uri.TryCreate(text.Trim(), UriKind.Absolute, out var url)
                    && url.Scheme is "http" or "https" && url.Host.Length > 0)
                    urls.Add(url);
                else
                    errors.Add($"{key}.crl_urls[{u}]: '{urlTexts[u]}' is not an http:// or https:// URL");
            }
            var files = (section.CrlFiles ?? []).Select(resolve).ToList();
            var useDistributionPoints = section.CrlDistributionPoints ?? false;
            var (ocsp, ocspUrl) = Ocsp(section.Ocsp, $"{key}.ocsp", errors);
            if (files.Count == 0 && urlTexts.Count == 0 && !useDistributionPoints && section.Ocsp is null)
                errors.Add($"{key}: gives no revocation source; add crl_files, crl_urls, crl_distribution_points: true or ocsp");

            var onUnknown = Choice(section.OnUnknown, $"{key}.on_unknown", errors, UnknownStatusAction.Refuse,
                ("refuse", UnknownStatusAction.Refuse), ("allow", UnknownStatusAction.Allow));
            var onStale = Choice(section.OnStale, $"{key}.on_stale", errors, StaleCrlAction.Refuse,
                ("refuse", StaleCrlAction.Refuse), ("warn", StaleCrlAction.Warn));
            var grace = RevocationPolicy.DefaultStaleGrace;
            if (section.StaleGrace is { } graceText && graceText.Trim() != "0" && !Durations.TryParse(graceText, out grace))
                errors.Add($"{key}.stale_grace: '{graceText}' is not a duration like 1h or 30m (or 0)");
            else if (section.StaleGrace?.Trim() == "0") grace = TimeSpan.Zero;

            var refresh = RevocationPolicy.DefaultRefreshInterval;
            if (section.Refresh is { } refreshText && (!Durations.TryParse(refreshText, out refresh) || refresh < TimeSpan.FromSeconds(10)))
                errors.Add($"{key}.refresh: '{refreshText}' is not a duration of at least 10s, like 5m");

            policies.Add(new RevocationPolicy(ca, key, files, urls)
            {
                OnUnknown = onUnknown, OnStale = onStale, StaleGrace = grace, UseDistributionPoints = useDistributionPoints, RefreshInterval = refresh,
                Ocsp = ocsp, OcspUrl = ocspUrl,
            });
        }
        return policies;
    }

    private static (OcspMode, Uri?) Ocsp(string? text, string key, List<string> errors)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "off": return (OcspMode.Off, null);
            case "auto": return (OcspMode.Auto, null);
        }
        if (Uri.TryCreate(text!.Trim(), UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.Host.Length > 0 && text.Length <= MaxUrlLength)
            return (OcspMode.Url, url);
        errors.Add($"{key}: '{text}' is not off, auto (the responder each certificate names) or an http:// URL of a responder");
        return (OcspMode.Off, null);
    }

    private static T Choice<T>(string? text, string key, List<string> errors, T fallback, params (string Word, T Value)[] choices)
    {
        if (text is null) return fallback;
        foreach (var (word, value) in choices)
            if (string.Equals(word, text.Trim(), StringComparison.OrdinalIgnoreCase)) return value;
        errors.Add($"{key}: '{text}' is not one of {string.Join(", ", choices.Select(c => c.Word))}");
        return fallback;
    }
}
