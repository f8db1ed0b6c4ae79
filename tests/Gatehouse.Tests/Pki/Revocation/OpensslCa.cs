using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>
/// A throw-away CA run by the real <c>openssl ca</c> (index.txt + crlnumber), so the CRLs we parse come
/// from the same tool many companies use. Everything lives in a <see cref="TempDirectory"/>.
/// </summary>
internal sealed class OpensslCa : IDisposable
{
    private readonly TempDirectory _dir = new();

    private OpensslCa(string subject) => Subject = subject;

    public string Subject { get; }

    public string CertificatePath => _dir.File("ca.pem");

    public X509Certificate2 Certificate => X509CertificateLoader.LoadCertificateFromFile(CertificatePath);

    /// <param name="keyArgs">openssl req -newkey arguments, e.g. ["rsa:2048"] or ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"].</param>
    public static async Task<OpensslCa> CreateAsync(string commonName, params string[] keyArgs)
    {
        var ca = new OpensslCa($"CN={commonName}");
        await File.WriteAllTextAsync(ca._dir.File("ca.cnf"), """
            [ req ]
            distinguished_name = dn
            prompt = no
            [ dn ]
            [ v3_ca ]
            basicConstraints = critical, CA:true
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            [ leaf ]
            basicConstraints = CA:false
            keyUsage = digitalSignature
            [ ca ]
            default_ca = the_ca
            [ the_ca ]
            database = index.txt
            crlnumber = crlnumber
            serial = serial
            new_certs_dir = .
            certificate = ca.pem
            private_key = ca.key
            default_md = sha256
            default_days = 5
            default_crl_days = 7
            policy = any
            crl_extensions = crl_ext
            [ any ]
            commonName = supplied
            [ crl_ext ]
            authorityKeyIdentifier = keyid:always
            [ crl_ext_unknown_critical ]
            authorityKeyIdentifier = keyid:always
            1.2.3.4 = critical, ASN1:UTF8String:must understand
            [ crl_ext_unknown_noncritical ]
            authorityKeyIdentifier = keyid:always
            1.2.3.4 = ASN1:UTF8String:may ignore
            """);
        await File.WriteAllTextAsync(ca._dir.File("index.txt"), "");
        await File.WriteAllTextAsync(ca._dir.File("crlnumber"), "1000\n"); // hex: the first CRL is number 4096
        await ca.RunAsync(["req", "-x509", "-config", "ca.cnf", "-extensions", "v3_ca", "-nodes", "-days", "30",
            "-subj", $"/CN={commonName}", "-keyout", "ca.key", "-out", "ca.pem", "-newkey", .. keyArgs]);
        return ca;
    }

    /// <summary>Issues a leaf with the given hex serial and returns its certificate file.</summary>
    public async Task<string> IssueAsync(string serialHex, string commonName)
    {
        await File.WriteAllTextAsync(_dir.File("serial"), serialHex + "\n");
        var name = $"leaf-{serialHex}";
        await RunAsync(["req", "-new", "-config", "ca.cnf", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-subj", $"/CN={commonName}", "-keyout", $"{name}.key", "-out", $"{name}.csr"]);
        await RunAsync(["ca", "-batch", "-config", "ca.cnf", "-extensions", "leaf", "-notext", "-in", $"{name}.csr", "-out", $"{name}.pem"]);
        return _dir.File($"{name}.pem");
    }

    public Task RevokeAsync(string certificatePath, string reason) =>
        RunAsync(["ca", "-config", "ca.cnf", "-revoke", certificatePath, "-crl_reason", reason]);

    /// <summary>Runs <c>openssl ca -gencrl</c> with extra arguments and returns the PEM file's path.</summary>
    public async Task<string> GenerateCrlAsync(string name, params string[] extraArgs)
    {
        await RunAsync(["ca", "-config", "ca.cnf", "-gencrl", "-out", $"{name}.pem", .. extraArgs]);
        return _dir.File($"{name}.pem");
    }

    /// <summary>The DER form of a PEM CRL, converted by openssl (not by the code under test).</summary>
    public async Task<byte[]> ToDerAsync(string crlPemPath)
    {
        var der = crlPemPath + ".der";
        await RunAsync(["crl", "-in", crlPemPath, "-outform", "DER", "-out", der]);
        return await File.ReadAllBytesAsync(der);
    }

    /// <summary>What <c>openssl crl -text</c> says, for loose comparison.</summary>
    public async Task<OpensslCrlText> DescribeAsync(string crlPemPath) =>
        new((await RunAsync(["crl", "-in", crlPemPath, "-text", "-noout"])).Stdout);

    public async Task<ProcessResult> VerifyWithOpensslAsync(string crlPemPath) =>
        await Peer.RunAsync("openssl", ["crl", "-in", crlPemPath, "-CAfile", CertificatePath, "-noout", "-verify"], workingDirectory: _dir.Path);

    private async Task<ProcessResult> RunAsync(string[] args) =>
        (await Peer.RunAsync("openssl", args, workingDirectory: _dir.Path)).EnsureSuccess("openssl " + string.Join(' ', args));

    public void Dispose() => _dir.Dispose();
}

/// <summary>Loose reading of <c>openssl crl -text -noout</c> output.</summary>
internal sealed record OpensslCrlText(string Text)
{
    public DateTimeOffset LastUpdate => Date("Last Update:");

    public DateTimeOffset NextUpdate => Date("Next Update:");

    public DateTimeOffset RevocationDate => Date("Revocation Date:");

    public string CrlNumber => LineAfter("X509v3 CRL Number:");

    public string Issuer => Value("Issuer:");

    private DateTimeOffset Date(string label)
    {
        // "Nov  1 23:25:58 2026 GMT": collapse the padding before the day.
        var text = string.Join(' ', Value(label).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return DateTimeOffset.ParseExact(text, "MMM d HH:mm:ss yyyy 'GMT'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
    }

    private string Value(string label)
    {
        var line = Text.Split('\n').First(l => l.Contains(label, StringComparison.Ordinal));
        return line[(line.IndexOf(label, StringComparison.Ordinal) + label.Length)..].Trim();
    }

    private string LineAfter(string label)
    {
        var lines = Text.Split('\n');
        return lines[Array.FindIndex(lines, l => l.Contains(label, StringComparison.Ordinal)) + 1].Trim();
    }
}
