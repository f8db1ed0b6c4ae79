using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Client.Dialing;

/// <summary>Whether to tunnel to one proxy, where that came from (environment, cache, detection), and why.</summary>
internal sealed record TunnelDecision(
    [property: JsonPropertyName("tunnel")] bool Tunnel,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("reasons")] IReadOnlyList<string> Reasons,
    [property: JsonPropertyName("decided")] DateTimeOffset Decided)
{
    public const string FromEnvironment = "environment", FromCache = "cache", FromDetection = "detection";
    public string Name => Tunnel ? "tunnel" : "direct";
}

/// <summary>What /v1/ping said the proxy saw of our connection (the <c>seen</c> object), and the JSON as sent.</summary>
internal sealed record PingEcho(bool TlsTerminatedByProxy, string? Sni, string? Alpn, IReadOnlyList<string> ClientCertificateHeaders,
    IReadOnlyList<string> ForwardingHeaders, JsonElement? Raw = null)
{
    /// <summary>Reads <c>{"seen":{...}}</c>; null when the document is not a Gatehouse ping answer.</summary>
    public static PingEcho? FromPingJson(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("seen", out var seen) || seen.ValueKind != JsonValueKind.Object
            || !seen.TryGetProperty("tls_terminated_by_proxy", out var terminated) || terminated.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            return null;
        string? Text(string name) => seen.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        IReadOnlyList<string> List(string name) => seen.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)] : [];
        return new PingEcho(terminated.GetBoolean(), Text("sni"), Text("alpn"), List("client_certificate_headers"), List("forwarding_headers"), seen.Clone());
    }
}

/// <summary>The cached decision in the profile folder (<c>tunnel.json</c>), trusted for <see cref="MaxAge"/>.</summary>
internal static class TunnelCache
{
    public const string FileName = "tunnel.json";
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    public static TunnelDecision? Load(string? directory, TimeProvider time)
    {
        if (directory is null || !File.Exists(Path.Combine(directory, FileName))) return null;
        try
        {
            var cached = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(directory, FileName)), TunnelJson.Default.TunnelDecision);
            var age = time.GetUtcNow() - cached?.Decided;
            return cached is not null && age >= TimeSpan.Zero && age < MaxAge ? cached with { Source = TunnelDecision.FromCache } : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null; // a damaged cache is only a reason to detect again
        }
    }

    /// <summary>Writes the decision when the profile folder exists (a --proxy without a profile is not cached).</summary>
    public static void Save(string? directory, TunnelDecision decision)
    {
        if (directory is null || !Directory.Exists(directory)) return;
        try
        {
            Gatehouse.Storage.AtomicFile.Write(Path.Combine(directory, FileName),
                JsonSerializer.Serialize(decision, TunnelJson.Default.TunnelDecision) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not caching costs one more detection next time, nothing else.
        }
    }

    public static void Forget(string? directory)
    {
        if (directory is null) return;
        try
        {
            File.Delete(Path.Combine(directory, FileName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Load ignores a stale file after MaxAge anyway.
        }
    }
}

[JsonSerializable(typeof(TunnelDecision))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class TunnelJson : JsonSerializerContext;
