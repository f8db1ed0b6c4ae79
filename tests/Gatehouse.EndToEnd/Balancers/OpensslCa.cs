using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// Certificates made with the openssl command, as a company PKI or a balancer's own server certificate would be:
/// ECDSA P-256, SHA-256, made at test time in a folder of the caller's.
/// </summary>
internal sealed class OpensslCa
{
    private readonly string _dir;

    private OpensslCa(string dir, string name, string certificate, string key)
    {
        _dir = dir;
        Name = name;
        Certificate = certificate;
        Key = key;
    }

    public string Name { get; }

    /// <summary>PEM file of this CA's certificate.</summary>
    public string Certificate { get; }

    public string Key { get; }

    /// <summary>A self-signed root CA with subject <paramref name="subject"/> (openssl's "/O=…/CN=…" form).</summary>
    public static async Task<OpensslCa> RootAsync(string dir, string name, string subject, int days = 30)
    {
        var (cert, key) = (Path.Combine(dir, name + ".pem"), Path.Combine(dir, name + ".key"));
        (await Peer.RunAsync("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-sha256",
            "-keyout", key, "-out", cert, "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture), "-subj", subject,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")).EnsureSuccess($"openssl root {name}");
        return new OpensslCa(dir, name, cert, key);
    }

    /// <summary>An intermediate CA signed by this one.</summary>
    public async Task<OpensslCa> IntermediateAsync(string name, string subject, int days = 30)
    {
        var (cert, key) = await SignAsync(name, subject, days, "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
        return new OpensslCa(_dir, name, cert, key);
    }

    /// <summary>
    /// A client (clientAuth) certificate signed by this CA; <paramref name="email"/> becomes a SAN email when given.
    /// Returns the certificate and key files.
    /// </summary>
    public Task<(string Certificate, string Key)> ClientAsync(string name, string subject, string? email = null, int days = 30) =>
        SignAsync(name, subject, days,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n" +
            (email is null ? "" : $"subjectAltName=email:{email}\n"));

    /// <summary>A TLS server certificate for 127.0.0.1 signed by this CA (a balancer's listener).</summary>
    public Task<(string Certificate, string Key)> ServerAsync(string name) =>
        SignAsync(name, "/CN=127.0.0.1", 30,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n");

    private async Task<(string Certificate, string Key)> SignAsync(string name, string subject, int days, string extensions)
    {
        var (cert, key, csr, ext) = (Path.Combine(_dir, name + ".pem"), Path.Combine(_dir, name + ".key"), Path.Combine(_dir, name + ".csr"),
            Path.Combine(_dir, name + ".ext"));
        await File.WriteAllTextAsync(ext, extensions);
        (await Peer.RunAsync("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", csr, "-subj", subject)).EnsureSuccess($"openssl req {name}");
        (await Peer.RunAsync("openssl", "x509", "-req", "-in", csr, "-CA", Certificate, "-CAkey", Key, "-CAcreateserial", "-sha256",
            "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture), "-extfile", ext, "-out", cert)).EnsureSuccess($"openssl x509 {name}");
        return (cert, key);
    }
}
