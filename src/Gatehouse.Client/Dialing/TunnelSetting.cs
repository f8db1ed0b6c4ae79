using Gatehouse.Routing;
namespace Gatehouse.Client.Dialing;

/// <summary>What <c>GATEHOUSE_TUNNEL</c> asks for one proxy.</summary>
internal enum TunnelMode { Auto, Always, Never }

/// <summary>
/// <c>GATEHOUSE_TUNNEL</c>: a bare <c>auto</c>, <c>always</c> or <c>never</c> for every proxy, and/or <c>HOST:PORT=MODE</c>
/// entries separated by <c>;</c> for single proxies, e.g. <c>never;proxy.example.com:443=always</c>. Every bad entry is
/// reported (STYLE habit 7); a setting with errors must not be used.
/// </summary>
internal sealed record TunnelSetting(TunnelMode Default, IReadOnlyDictionary<string, TunnelMode> PerAddress, IReadOnlyList<string> Errors)
{
    public const string Variable = "GATEHOUSE_TUNNEL", KindVariable = "GATEHOUSE_TUNNEL_MODE";

    /// <summary>How often this client pings a tunnel (and a -ping connection); the proxy's side is proxy.ping_interval.</summary>
    public const string PingVariable = "GATEHOUSE_PING_INTERVAL";

    public static TunnelSetting Auto { get; } = new(TunnelMode.Auto, new Dictionary<string, TunnelMode>(), []);

    public TunnelMode ModeFor(ProxyAddress proxy) =>
        PerAddress.TryGetValue(Key(proxy), out var mode) ? mode : Default;

    public static TunnelSetting FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    public static TunnelSetting Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Auto;
        var errors = new List<string>();
        var perAddress = new Dictionary<string, TunnelMode>(StringComparer.Ordinal);
        TunnelMode? fallback = null;
        foreach (var raw in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = raw.LastIndexOf('=');
            var modeText = equals < 0 ? raw : raw[(equals + 1)..].Trim();
            if (!TryMode(modeText, out var mode))
            {
                errors.Add($"{Variable}: '{modeText}' in '{raw}' is not auto, always or never.");
                continue;
            }
            if (equals < 0)
            {
                if (fallback is not null) errors.Add($"{Variable}: '{raw}' is a second default; give one bare mode at most.");
                fallback = mode;
                continue;
            }
            var addressText = raw[..equals].Trim();
            if (!addressText.Contains(':') || ProxyAddress.TryParse(addressText) is not { } address)
            {
                errors.Add($"{Variable}: '{addressText}' in '{raw}' is not HOST:PORT.");
                continue;
            }
            if (!perAddress.TryAdd(Key(address), mode)) errors.Add($"{Variable}: {addressText} is given twice.");
        }
        return new TunnelSetting(fallback ?? TunnelMode.Auto, perAddress, errors);
    }

    /// <summary><c>GATEHOUSE_TUNNEL_MODE</c>: <c>websocket</c> (the default) or <c>raw</c>; null for anything else.</summary>
    public static TunnelKind? ParseKind(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "websocket" or "ws" => TunnelKind.WebSocket,
        "raw" => TunnelKind.Raw,
        _ => null,
    };

    private static bool TryMode(string text, out TunnelMode mode)
    {
        (var ok, mode) = text.ToLowerInvariant() switch
        {
            "auto" => (true, TunnelMode.Auto),
            "always" or "on" or "yes" or "true" or "1" => (true, TunnelMode.Always),
            "never" or "off" or "no" or "false" or "0" => (true, TunnelMode.Never),
            _ => (false, TunnelMode.Auto),
        };
        return ok;
    }

    private static string Key(ProxyAddress address) => $"{address.Host.ToLowerInvariant()}:{address.Port}";
}
