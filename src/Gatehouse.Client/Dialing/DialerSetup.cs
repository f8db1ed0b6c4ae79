using Gatehouse.Routing;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Client.Profiles;

namespace Gatehouse.Client.Dialing;

/// <summary>Builds <see cref="DialerOptions"/> for a command from the profile store, --proxy, --ca, --insecure and the
/// environment (<c>GATEHOUSE_TUNNEL</c>, <c>GATEHOUSE_TUNNEL_MODE</c>). Setup problems throw <see cref="SetupException"/>.</summary>
internal static class DialerSetup
{
    /// <param name="requireIdentity">A dial needs the profile's certificate; diagnostics can go without one.</param>
    /// <param name="warnings">Where warnings about connections go (the command's stderr).</param>
    public static DialerOptions Create(ProfileStore profiles, string? proxy, string? caFile, bool insecure, bool requireIdentity,
        TextWriter? warnings = null)
    {
        var setting = TunnelSetting.FromEnvironment();
        if (setting.Errors.Count > 0) throw new SetupException(string.Join(" ", setting.Errors));
        var kindText = Environment.GetEnvironmentVariable(TunnelSetting.KindVariable);
        var kind = TunnelSetting.ParseKind(kindText) ?? throw new SetupException($"{TunnelSetting.KindVariable}: '{kindText}' is not websocket or raw.");
        var pingText = Environment.GetEnvironmentVariable(TunnelSetting.PingVariable);
        TimeSpan? ping = null;
        if (!string.IsNullOrWhiteSpace(pingText))
            ping = Durations.TryParse(pingText, out var parsedPing) ? parsedPing
                : throw new SetupException($"{TunnelSetting.PingVariable}: '{pingText}' is not a duration like 20s.");
        var address = proxy ?? profiles.CurrentProxy()
            ?? throw new SetupException("no proxy given and no current profile: log in (`gatehouse login --proxy HOST:PORT`) or pass --proxy.");
        var parsed = ProxyAddress.TryParse(address) ?? throw new SetupException($"--proxy: '{address}' is not HOST:PORT.");
        var directory = profiles.DirectoryOf(address);
        var hasProfile = File.Exists(Path.Combine(directory, ProfileStore.ProfileFile));
        if (requireIdentity && !hasProfile)
            throw new SetupException($"not logged in to {address}: run `gatehouse login --proxy {address}` first.");

        X509Certificate2? certificate = null;
        var certPath = Path.Combine(directory, IdentityFiles.Certificate);
        var keyPath = Path.Combine(directory, IdentityFiles.PrivateKey);
        if (hasProfile && File.Exists(certPath) && File.Exists(keyPath))
        {
            (certificate, var problem) = IdentityFiles.LoadPair(certPath, keyPath);
            if (certificate is null) throw new SetupException($"cannot read the certificate and key in {directory} ({problem}); log in again.");
            if (requireIdentity && certificate.NotAfter.ToUniversalTime() < DateTime.UtcNow)
                throw new SetupException($"your certificate for {address} expired at {certificate.NotAfter.ToUniversalTime():u}; run `gatehouse login --proxy {address}`.");
        }
        else if (requireIdentity) throw new SetupException($"{directory} has no {IdentityFiles.Certificate} and {IdentityFiles.PrivateKey}; log in again.");

        return new DialerOptions(parsed, certificate, LoadHostCa(caFile ?? Path.Combine(directory, ProfileStore.HostCaFile), caFile is not null), insecure,
            hasProfile ? directory : null, PingInterval: ping, Tunnel: setting, TunnelKind: kind)
        {
            Warn = warnings is null ? null : line => warnings.WriteLine("gatehouse: warning: " + line),
            Outer = hasProfile ? OuterCertificate.FromProfileDirectory(directory, certificate) : OuterCertificate.None(),
        };
    }

    /// <summary>For the long-running local proxies: <paramref name="options"/> keeping tunnels ready when
    /// <c>GATEHOUSE_TUNNEL_POOL</c> turns that on (off by default, see <see cref="TunnelPoolSettings"/>).</summary>
    public static DialerOptions WithPool(DialerOptions options)
    {
        var (pool, error) = TunnelPoolSettings.FromEnvironment();
        if (error is not null) throw new SetupException(error);
        return options with { Pool = pool };
    }

    private static X509Certificate2? LoadHostCa(string path, bool given)
    {
        if (!given && (!File.Exists(path) || new FileInfo(path).Length == 0)) return null;
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new SetupException($"--ca: cannot read a PEM certificate from {path} ({e.Message.TrimEnd('.')}).");
        }
    }
}
