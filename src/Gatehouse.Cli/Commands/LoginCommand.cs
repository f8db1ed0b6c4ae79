using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Cli.Configuration;
using Gatehouse.Client.Login;
using Gatehouse.Client.Profiles;
using Gatehouse.Pki.Ssh;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse login</c>: get short-lived certificates from a proxy (password) or adopt an issued identity.</summary>
internal static class LoginCommand
{
    public static Command Create()
    {
        var proxy = new Option<string>("--proxy") { Description = "The proxy's address, HOST:PORT", Required = true };
        var user = new Option<string?>("--user") { Description = "User name (default: the OS user)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var totp = new Option<string?>("--totp") { Description = "The current one-time code, if the user has TOTP" };
        var ttl = new Option<string?>("--ttl") { Description = "Ask for certificates valid this long (capped by the roles' max_session_ttl)" };
        var identity = new Option<string?>("--identity") { Description = "Use the identity directory from `gatehouse admin certs issue` instead of a password" };
        var ca = new Option<string?>("--ca") { Description = "The cluster's host CA (PEM) to trust the proxy's certificate with" };
        var insecure = new Option<bool>("--insecure") { Description = "Do not check the proxy's certificate (lab use only)" };
        var format = CommandKit.DataFormatOption();
        var command = new Command("login", "Log in to a proxy and keep the certificates in a profile ($GATEHOUSE_HOME, default ~/.gatehouse)")
        {
            proxy, user, passwordStdin, totp, ttl, identity, ca, insecure, format,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var address = parse.GetValue(proxy)!.Trim();
            if (!Uri.TryCreate($"https://{address}/", UriKind.Absolute, out _)) return CommandKit.Fail($"--proxy: '{address}' is not HOST:PORT.");
            var profiles = ProfileStore.Default();
            var trust = LoadTrust(parse.GetValue(ca), parse.GetValue(insecure), profiles, address);
            TimeSpan? lifetime = null;
            if (parse.GetValue(ttl) is { } ttlText)
            {
                if (!Durations.TryParse(ttlText, out var parsed)) return CommandKit.Fail($"--ttl: '{ttlText}' is not a duration like 8h.");
                lifetime = parsed;
            }
            var profile = parse.GetValue(identity) is { } directory
                ? await AdoptIdentityAsync(address, directory, trust, profiles, cancellationToken)
                : await PasswordLoginAsync(address, parse.GetValue(user) ?? Environment.UserName, parse.GetValue(passwordStdin), parse.GetValue(totp),
                    lifetime, trust, profiles, cancellationToken);
            if (profile is null) return 1;
            if (parse.GetValue(format) == "json")
                CommandKit.WriteJson(new { profile, Directory = profiles.DirectoryOf(address) });
            else
                Console.Out.WriteLine($"Logged in to cluster '{profile.ClusterName}' at {address} as {profile.User} (roles: {Join(profile.Roles)}; " +
                                      $"logins: {Join(profile.Logins)}), valid until {profile.Expires:u}.\nProfile: {profiles.DirectoryOf(address)}");
            return 0;
        });
        return command;
    }

    private static async Task<Profile?> PasswordLoginAsync(string address, string user, bool passwordStdin, string? totp, TimeSpan? ttl, ProxyTrust trust,
        ProfileStore profiles, CancellationToken cancellationToken)
    {
        var password = CommandKit.ReadSecret(passwordStdin, $"password for {user}") is { } p ? p
            : throw new SetupException("no terminal to ask for the password on: use --password-stdin, or --identity DIR.");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256); // made here; only its public half is sent
        using var http = ProxyConnection.Create(address, trust, TimeSpan.FromSeconds(60));
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("v1/login", new Dictionary<string, object?>
            {
                ["user"] = user, ["password"] = password, ["totp"] = totp, ["public_key"] = key.ExportSubjectPublicKeyInfoPem(),
                ["ttl_seconds"] = ttl is { } t ? (long)t.TotalSeconds : null,
            }, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            CommandKit.Fail(ProxyConnection.Explain(e, address, trust));
            return null;
        }
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var json = body.RootElement;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            CommandKit.Fail($"login refused: {(json.TryGetProperty("error", out var error) ? error.GetString() : response.StatusCode.ToString())}");
            return null;
        }
        string Text(string name) => json.GetProperty(name).GetString()!;
        var profile = new Profile(address, Text("cluster_name"), Text("user"), Strings(json, "roles"), Strings(json, "logins"),
            json.GetProperty("expires").GetDateTimeOffset(), "login");
        profiles.Save(profile, new IdentityFiles(Text("certificate"), key.ExportPkcs8PrivateKeyPem(), Text("user_ca"), Text("ssh_certificate"),
            OpenSshKeyFormat.PrivateKeyPem(key), OpenSshKeyFormat.PublicKeyLine(key, $"{profile.User}@{profile.ClusterName}")), Text("host_ca"));
        return profile;
    }

    private static async Task<Profile?> AdoptIdentityAsync(string address, string directory, ProxyTrust trust, ProfileStore profiles,
        CancellationToken cancellationToken)
    {
        string Read(string name)
        {
            var path = Path.Combine(directory, name);
            return File.Exists(path) ? File.ReadAllText(path) : throw new SetupException($"--identity: {path} is missing; give the directory `gatehouse admin certs issue --out` wrote.");
        }
        using var certificate = X509Certificate2.CreateFromPem(Read(IdentityFiles.Certificate), Read(IdentityFiles.PrivateKey));
        if (certificate.NotAfter.ToUniversalTime() < DateTime.UtcNow)
            throw new SetupException($"--identity: the certificate in {directory} expired at {certificate.NotAfter.ToUniversalTime():u}; ask for a new one.");
        using var http = ProxyConnection.Create(address, trust, TimeSpan.FromSeconds(30));
        JsonElement ping;
        try
        {
            ping = JsonDocument.Parse(await http.GetStringAsync("v1/ping", cancellationToken)).RootElement;
        }
        catch (HttpRequestException e)
        {
            CommandKit.Fail(ProxyConnection.Explain(e, address, trust));
            return null;
        }
        var caPem = Read(IdentityFiles.Ca);
        var caFingerprint = Convert.ToHexString(SHA256.HashData(X509Certificate2.CreateFromPem(caPem).RawData));
        if (ping.GetProperty("ca_fingerprints").GetProperty("user_sha256").GetString() != caFingerprint)
        {
            CommandKit.Fail($"the identity in {directory} was issued by another cluster than the one at {address} (cluster '{ping.GetProperty("cluster_name").GetString()}').");
            return null;
        }
        Gatehouse.Identity.IdentityExtension.TryDecode(certificate, out var who, out _);
        var profile = new Profile(address, ping.GetProperty("cluster_name").GetString()!, who.User, who.Roles, who.Logins,
            certificate.NotAfter.ToUniversalTime(), "identity");
        string Optional(string name) => File.Exists(Path.Combine(directory, name)) ? File.ReadAllText(Path.Combine(directory, name)) : "";
        profiles.Save(profile, new IdentityFiles(Read(IdentityFiles.Certificate), Read(IdentityFiles.PrivateKey), caPem,
            Optional(IdentityFiles.SshCertificate), Optional(IdentityFiles.SshKey), Optional(IdentityFiles.SshPublicKey)),
            trust.HostCa?.ExportCertificatePem() ?? "");
        return profile;
    }

    private static ProxyTrust LoadTrust(string? caFile, bool insecure, ProfileStore profiles, string address)
    {
        if (insecure) return new ProxyTrust(null, true);
        var path = caFile ?? Path.Combine(profiles.DirectoryOf(address), ProfileStore.HostCaFile);
        if (caFile is null && (!File.Exists(path) || new FileInfo(path).Length == 0)) return ProxyTrust.System;
        try
        {
            return new ProxyTrust(X509Certificate2.CreateFromPem(File.ReadAllText(path)), false);
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new SetupException($"--ca: cannot read a PEM certificate from {path} ({e.Message.TrimEnd('.')}).");
        }
    }

    private static IReadOnlyList<string> Strings(JsonElement json, string name) =>
        [.. json.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

    private static string Join(IReadOnlyList<string> items) => items.Count == 0 ? "none" : string.Join(", ", items);
}
