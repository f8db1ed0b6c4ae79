using System.Text.Json;
using System.Text.Json.Serialization;
using Gatehouse.Storage;

namespace Gatehouse.Client.Profiles;

/// <summary>What the client remembers of one proxy it logged in to (profile.json beside the identity files).</summary>
internal sealed record Profile(
    [property: JsonPropertyName("proxy")] string Proxy,
    [property: JsonPropertyName("cluster_name")] string ClusterName,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("logins")] IReadOnlyList<string> Logins,
    [property: JsonPropertyName("expires")] DateTimeOffset Expires,
    [property: JsonPropertyName("source")] string Source);

/// <summary>
/// <c>$GATEHOUSE_HOME</c> (default <c>~/.gatehouse</c>): one folder per proxy holding its identity files, the proxy's
/// host CA and profile.json; <c>current</c> names the proxy used when a command is given none.
/// </summary>
internal sealed class ProfileStore(string home)
{
    public const string HomeVariable = "GATEHOUSE_HOME", HostCaFile = "host-ca.pem", ProfileFile = "profile.json", CurrentFile = "current";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Home => home;

    public static ProfileStore Default() =>
        new(Environment.GetEnvironmentVariable(HomeVariable) is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".gatehouse"));

    /// <summary>The folder of a proxy address ("proxy.example.com:443" → "proxy.example.com_443").</summary>
    public string DirectoryOf(string proxy) => Path.Combine(home, proxy.Replace(':', '_').Replace('/', '_'));

    public void Save(Profile profile, IdentityFiles identity, string hostCaPem)
    {
        var directory = DirectoryOf(profile.Proxy);
        Directory.CreateDirectory(home, AtomicFile.OwnerOnly | UnixFileMode.UserExecute);
        identity.WriteTo(directory);
        // Newline-terminated like the identity files, so `cat` of several PEM files stays a valid bundle; empty (no host CA
        // known: --identity with --insecure) stays empty, which LoadTrust reads as "none".
        AtomicFile.Write(Path.Combine(directory, HostCaFile), hostCaPem.Length == 0 ? "" : hostCaPem.ReplaceLineEndings("\n").TrimEnd('\n') + "\n");
        // profile.json last: a folder with a profile is a complete one.
        AtomicFile.Write(Path.Combine(directory, ProfileFile), JsonSerializer.Serialize(profile, Json) + "\n");
        AtomicFile.Write(Path.Combine(home, CurrentFile), profile.Proxy + "\n");
    }

    /// <summary>The company certificate for the outer TLS, beside the identity in a profile's directory.</summary>
    public const string OuterCertificateFile = "outer-cert.pem", OuterKeyFile = "outer-key.pem";

    /// <summary>Keeps a company certificate for the outer TLS (<c>login --outer-cert/--outer-key</c>) beside the identity; the
    /// key owner-only. Later commands find it through <c>OuterCertificate.FromProfileDirectory</c>.</summary>
    public void SaveOuterCertificate(string proxy, string certificatePem, string privateKeyPem)
    {
        var directory = DirectoryOf(proxy);
        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, OuterKeyFile), privateKeyPem.ReplaceLineEndings("\n").TrimEnd('\n') + "\n", AtomicFile.OwnerOnly);
        AtomicFile.Write(Path.Combine(directory, OuterCertificateFile), certificatePem.ReplaceLineEndings("\n").TrimEnd('\n') + "\n");
    }

    public string? CurrentProxy() =>
        File.Exists(Path.Combine(home, CurrentFile)) ? File.ReadAllText(Path.Combine(home, CurrentFile)).Trim() : null;

    public Profile? Load(string proxy)
    {
        var path = Path.Combine(DirectoryOf(proxy), ProfileFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<Profile>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new SetupException($"{path} is damaged ({e.Message}); run `gatehouse logout --proxy {proxy}` and log in again.");
        }
    }

    public IReadOnlyList<Profile> LoadAll() =>
        !Directory.Exists(home) ? [] :
        [.. Directory.GetDirectories(home)
            .Select(d => Path.Combine(d, ProfileFile)).Where(File.Exists)
            .Select(p => JsonSerializer.Deserialize<Profile>(File.ReadAllText(p), Json)!)
            .OrderBy(p => p.Proxy, StringComparer.Ordinal)];

    /// <summary>Removes a proxy's folder (keys included); false when there was none.</summary>
    public bool Remove(string proxy)
    {
        var directory = DirectoryOf(proxy);
        if (!Directory.Exists(directory)) return false;
        Directory.Delete(directory, recursive: true);
        if (CurrentProxy() == proxy) File.Delete(Path.Combine(home, CurrentFile));
        return true;
    }
}
