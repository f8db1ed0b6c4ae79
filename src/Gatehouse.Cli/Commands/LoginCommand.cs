using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Cli.Configuration;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Login;
using Gatehouse.Client.Profiles;
using Gatehouse.Pki.Ssh;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse login</c>: get short-lived certificates from a proxy (password) or adopt an issued identity.</summary>
internal static partial class LoginCommand
{
    public static Command Create()
    {
        var proxy = new Option<string>("--proxy") { Description = "The proxy's address, HOST:PORT", Required = true };
        var user = new Option<string?>("--user") { Description = "User name (default: the OS user)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var totp = new Option<string?>("--totp") { Description = "The current one-time code, if the user has TOTP" };
        var ttl = new Option<string?>("--ttl")
        {
            Description = "Ask for certificates valid this long (capped by the roles' max_session_ttl and the cluster's pki.max_user_cert_ttl)",
        };
        var identity = new Option<string?>("--identity") { Description = "Use the identity directory from `gatehouse admin certs issue` instead of a password" };
        var ca = new Option<string?>("--ca") { Description = "The cluster's host CA (PEM) to trust the proxy's certificate with" };
        var insecure = new Option<bool>("--insecure")
        {
            Description = "Do not check the proxy's certificate (a lab, or a first contact): the cluster's host CA is then taken from the proxy once you " +
                          "confirm its SHA-256 fingerprint (asked on a terminal, or --ca-fingerprint)",
        };
        var caFingerprint = new Option<string?>("--ca-fingerprint")
        {
            Description = "With --insecure: the SHA-256 fingerprint of the cluster's host CA you expect (from an administrator); the login stops if it differs",
        };
        var outerCert = new Option<string?>("--outer-cert")
        {
            Description = "A company certificate (PEM) a balancer in front trusts, offered on the outer TLS only when it asks; kept in the profile for later commands",
        };
        var outerKey = new Option<string?>("--outer-key") { Description = "The private key (PEM) of --outer-cert" };
        var format = CommandKit.DataFormatOption();
        var command = new Command("login", "Log in to a proxy and keep the certificates in a profile ($GATEHOUSE_HOME, default ~/.gatehouse)")
        {
            proxy, user, passwordStdin, totp, ttl, identity, ca, insecure, caFingerprint, outerCert, outerKey, format,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var address = parse.GetValue(proxy)!.Trim();
            if (!Uri.TryCreate($"https://{address}/", UriKind.Absolute, out _)) return CommandKit.Fail($"--proxy: '{address}' is not HOST:PORT.");
            var profiles = ProfileStore.Default();
            var identityDirectory = parse.GetValue(identity);
            var trust = LoadTrust(parse.GetValue(ca), identityDirectory, parse.GetValue(insecure), profiles, address);
            TimeSpan? lifetime = null;
            if (parse.GetValue(ttl) is { } ttlText)
            {
                if (!Durations.TryParse(ttlText, out var parsed)) return CommandKit.Fail($"--ttl: '{ttlText}' is not a duration like 8h.");
                lifetime = parsed;
            }
            var (outerCertPath, outerKeyPath) = (parse.GetValue(outerCert), parse.GetValue(outerKey));
            if (outerCertPath is null != outerKeyPath is null) return CommandKit.Fail("--outer-cert and --outer-key go together; give both or neither.");
            using var identityCertificate = identityDirectory is null ? null : LoadIdentityCertificate(identityDirectory);
            var outer = outerCertPath is not null
                ? new OuterCertificate(OuterCertificate.Load(outerCertPath, outerKeyPath!, "--outer-cert/--outer-key"), OuterCertificate.FromOuterFiles)
                : identityCertificate is not null ? new OuterCertificate(identityCertificate, OuterCertificate.FromIdentity)
                : ProfileOuter(profiles, address);
            using var hostCa = await PinHostCaAsync(address, trust, parse.GetValue(caFingerprint), outer, cancellationToken);
            if (hostCa is null) return 1;
            var profile = identityDirectory is not null
                ? await AdoptIdentityAsync(address, identityDirectory, identityCertificate!, trust, hostCa, outer, profiles, cancellationToken)
                : await PasswordLoginAsync(address, parse.GetValue(user) ?? Environment.UserName, parse.GetValue(passwordStdin), parse.GetValue(totp),
                    lifetime, trust, hostCa, outer, profiles, cancellationToken);
            if (profile is null) return 1;
            if (outerCertPath is not null)
                profiles.SaveOuterCertificate(address, File.ReadAllText(outerCertPath), File.ReadAllText(outerKeyPath!));
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
        X509Certificate2 hostCa, OuterCertificate outer, ProfileStore profiles, CancellationToken cancellationToken)
    {
        var password = CommandKit.ReadSecret(passwordStdin, $"password for {user}") is { } p ? p
            : throw new SetupException("no terminal to ask for the password on: use --password-stdin, or --identity DIR.");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256); // made here; only its public half is sent
        using var http = ProxyConnection.Create(address, trust, TimeSpan.FromSeconds(60), outer);
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
            CommandKit.Fail(ProxyConnection.Explain(e, address, trust, outer));
            return null;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            // Gatehouse refuses with JSON {"error": …}; a balancer with an HTML page, which may be nginx's "No required SSL
            // certificate was sent" (Gatehouse itself asks for a certificate too, optionally, so the request alone says little).
            var error = ErrorOf(text);
            if (error is null && OuterCertificate.IsCertificateRefusalStatus((int)response.StatusCode) && outer.MissingCertificateExplanation(address) is { } missing)
                CommandKit.Fail(missing);
            else
                CommandKit.Fail($"login refused: {error ?? $"{(int)response.StatusCode} {response.ReasonPhrase}"}");
            return null;
        }
        using var body = JsonDocument.Parse(text);
        var json = body.RootElement;
        if (json.TryGetProperty("notice", out var notice) && notice.GetString() is { } note)
            Console.Error.WriteLine($"gatehouse: note: {note}");
        string Text(string name) => json.GetProperty(name).GetString()!;
        var profile = new Profile(address, Text("cluster_name"), Text("user"), Strings(json, "roles"), Strings(json, "logins"),
            json.GetProperty("expires").GetDateTimeOffset(), "login");
        profiles.Save(profile, new IdentityFiles(Text("certificate"), key.ExportPkcs8PrivateKeyPem(), Text("user_ca"), Text("ssh_certificate"),
            OpenSshKeyFormat.PrivateKeyPem(key), OpenSshKeyFormat.PublicKeyLine(key, $"{profile.User}@{profile.ClusterName}")),
            // Pinned from the ping at first contact: what was confirmed is kept, not what a later answer on the same channel says.
            trust.HostCa is null ? hostCa.ExportCertificatePem() : Text("host_ca"));
        return profile;
    }

    private static string IdentityFilePath(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        return File.Exists(path) ? path : throw new SetupException($"--identity: {path} is missing; give the directory `gatehouse admin certs issue --out` wrote.");
    }

    private static string ReadIdentityFile(string directory, string name) => File.ReadAllText(IdentityFilePath(directory, name));

    /// <summary>The identity's certificate with its key, usable by SslStream (it is the outer certificate of the login).</summary>
    private static X509Certificate2 LoadIdentityCertificate(string directory)
    {
        var (certificatePath, keyPath) = (IdentityFilePath(directory, IdentityFiles.Certificate), IdentityFilePath(directory, IdentityFiles.PrivateKey));
        var (certificate, problem) = IdentityFiles.LoadPair(certificatePath, keyPath);
        if (certificate is null) throw new SetupException($"--identity: cannot read {certificatePath} and {keyPath} ({problem}).");
        if (certificate.NotAfter.ToUniversalTime() >= DateTime.UtcNow) return certificate;
        var expired = certificate.NotAfter.ToUniversalTime();
        certificate.Dispose();
        throw new SetupException($"--identity: the certificate in {directory} expired at {expired:u}; ask for a new one.");
    }

    /// <summary>For a password login: the profile's outer pair, else its Gatehouse certificate while still valid (a re-login
    /// through a verify-mode balancer), else nothing.</summary>
    private static OuterCertificate ProfileOuter(ProfileStore profiles, string address)
    {
        var directory = profiles.DirectoryOf(address);
        // A missing or damaged old identity is what a password login replaces; it just has nothing to offer.
        var (current, _) = IdentityFiles.LoadPair(Path.Combine(directory, IdentityFiles.Certificate), Path.Combine(directory, IdentityFiles.PrivateKey));
        if (current is not null && current.NotAfter.ToUniversalTime() <= DateTime.UtcNow)
        {
            current.Dispose();
            current = null;
        }
        return OuterCertificate.FromProfileDirectory(directory, current);
    }

    private static string? ErrorOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<Profile?> AdoptIdentityAsync(string address, string directory, X509Certificate2 certificate, ProxyTrust trust,
        X509Certificate2 hostCa, OuterCertificate outer, ProfileStore profiles, CancellationToken cancellationToken)
    {
        string Read(string name) => ReadIdentityFile(directory, name);
        using var http = ProxyConnection.Create(address, trust, TimeSpan.FromSeconds(30), outer);
        JsonElement ping;
        try
        {
            ping = JsonDocument.Parse(await http.GetStringAsync("v1/ping", cancellationToken)).RootElement;
        }
        catch (HttpRequestException e)
        {
            CommandKit.Fail(ProxyConnection.Explain(e, address, trust, outer));
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
            hostCa.ExportCertificatePem());
        return profile;
    }

    /// <summary>The host CA to check the proxy by: --ca, else the one beside an identity from `admin certs issue`, else the
    /// profile's; none (this machine's store only, or --insecure) on a first contact.</summary>
    private static ProxyTrust LoadTrust(string? caFile, string? identityDirectory, bool insecure, ProfileStore profiles, string address)
    {
        var beside = identityDirectory is null ? null : Path.Combine(identityDirectory, ProfileStore.HostCaFile);
        var path = caFile ?? (beside is not null && File.Exists(beside) ? beside : Path.Combine(profiles.DirectoryOf(address), ProfileStore.HostCaFile));
        if (caFile is null && (!File.Exists(path) || new FileInfo(path).Length == 0)) return new ProxyTrust(null, insecure);
        try
        {
            return new ProxyTrust(X509Certificate2.CreateFromPem(File.ReadAllText(path)), insecure);
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
