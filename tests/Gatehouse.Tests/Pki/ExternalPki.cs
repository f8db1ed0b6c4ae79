using System.Security.Cryptography.X509Certificates;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki;

/// <summary>
/// A company PKI made with the real openssl command in a temp directory: roots, intermediates, leaves, and CRLs
/// through `openssl ca`. Each certificate is a PEM file next to its key.
/// </summary>
internal sealed class ExternalPki : IDisposable
{
    private readonly TempDirectory _dir = new();
    private int _serial = 0x1000;

    public string Dir => _dir.Path;

    public string File(string name) => _dir.File(name);

    public sealed record Issued(string Name, string CertPath, string KeyPath)
    {
        public X509Certificate2 Load() => X509CertificateLoader.LoadCertificateFromFile(CertPath);
    }

    /// <param name="key">openssl -newkey argument: "ec:P-256" style is spelled via <see cref="KeyArgs"/>.</param>
    public async Task<Issued> RootAsync(string name, string key = "ec", int days = 3650)
    {
        var result = await Peer.RunAsync("openssl", ["req", "-x509", .. KeyArgs(key), "-nodes", "-keyout", File($"{name}.key"), "-out", File($"{name}.pem"),
            "-subj", $"/O=Corp/CN={name}", "-days", days.ToString(), "-sha256",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        result.EnsureSuccess($"openssl req -x509 ({name})");
        return new Issued(name, File($"{name}.pem"), File($"{name}.key"));
    }

    /// <param name="extensions">openssl extension lines; null makes an X.509v1 certificate (no extensions at all).</param>
    public async Task<Issued> IssueAsync(Issued issuer, string name, string? extensions, string key = "ec", int days = 365, string digest = "-sha256")
    {
        (await Peer.RunAsync("openssl", ["req", "-new", .. KeyArgs(key), "-nodes", "-keyout", File($"{name}.key"), "-out", File($"{name}.csr"),
            "-subj", $"/O=Corp/CN={name}"])).EnsureSuccess($"openssl req ({name})");
        List<string> args = ["x509", "-req", "-in", File($"{name}.csr"), "-CA", issuer.CertPath, "-CAkey", issuer.KeyPath,
            "-set_serial", $"0x{_serial++:X}", "-days", days.ToString(), digest, "-out", File($"{name}.pem")];
        if (extensions is not null)
        {
            await System.IO.File.WriteAllTextAsync(File($"{name}.ext"), $"[ext]\n{extensions}\n");
            args.AddRange(["-extfile", File($"{name}.ext"), "-extensions", "ext"]);
        }
        (await Peer.RunAsync("openssl", args)).EnsureSuccess($"openssl x509 -req ({name})");
        return new Issued(name, File($"{name}.pem"), File($"{name}.key"));
    }

    public const string CaExtensions = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid";
    public const string ClientExtensions = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid";
    public const string ServerOnlyExtensions = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid";

    /// <summary>Revokes the given certificates with `openssl ca -revoke` and writes the issuer's CRL (PEM) with `openssl ca -gencrl`.</summary>
    public Task<string> CrlAsync(Issued issuer, params Issued[] revoked) =>
        CrlToAsync(issuer, Path.Combine(Dir, $"{issuer.Name}.crl.pem"), 1, 30, revoked);

    /// <summary>Like <see cref="CrlAsync"/>, into <paramref name="output"/>, with the given CRL number and lifetime in days.</summary>
    public async Task<string> CrlToAsync(Issued issuer, string output, int number, int days, params Issued[] revoked)
    {
        var caDir = File($"ca-{issuer.Name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(caDir);
        var config = Path.Combine(caDir, "ca.cnf");
        await System.IO.File.WriteAllTextAsync(Path.Combine(caDir, "index.txt"), "");
        await System.IO.File.WriteAllTextAsync(Path.Combine(caDir, "crlnumber"), $"{number:X2}\n");
        await System.IO.File.WriteAllTextAsync(config,
            $"[ca]\ndefault_ca = dflt\n[dflt]\ndatabase = {caDir}/index.txt\ncrlnumber = {caDir}/crlnumber\ndefault_md = sha256\ndefault_crl_days = {days}\n");
        foreach (var certificate in revoked)
            (await Peer.RunAsync("openssl", "ca", "-config", config, "-cert", issuer.CertPath, "-keyfile", issuer.KeyPath,
                "-revoke", certificate.CertPath, "-crl_reason", "keyCompromise")).EnsureSuccess("openssl ca -revoke");
        (await Peer.RunAsync("openssl", "ca", "-config", config, "-cert", issuer.CertPath, "-keyfile", issuer.KeyPath, "-gencrl", "-out", output))
            .EnsureSuccess("openssl ca -gencrl");
        return output;
    }

    private static string[] KeyArgs(string key) => key switch
    {
        "ec" => ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ec384" => ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        _ when key.StartsWith("rsa:", StringComparison.Ordinal) => ["-newkey", key],
        _ => throw new ArgumentException(key),
    };

    public void Dispose() => _dir.Dispose();
}
