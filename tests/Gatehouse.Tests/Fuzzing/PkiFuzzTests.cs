using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Access.Roles;
using Gatehouse.Pki.Revocation;
using Gatehouse.Pki.Ssh;
using Gatehouse.Testing;
using Gatehouse.Testing.Fuzzing;
using Gatehouse.Tests.Pki.Revocation;
using Gatehouse.Tests.Pki.Ssh;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Fuzzing;

/// <summary>
/// What Gatehouse reads from files and fetches: CRLs (openssl's, PEM and DER, fetched from a distribution point), OpenSSH
/// certificate lines (ssh-keygen's and our signer's), role YAML. Each gives its documented bad-input outcome — a
/// CrlParseResult error, a FormatException, a RoleParseResult with errors — and nothing else.
/// </summary>
public sealed class PkiFuzzTests(OpensslCrlFixture openssl, ITestOutputHelper output) : IClassFixture<OpensslCrlFixture>
{
    [Fact]
    public async Task Crl_decoder()
    {
        var seeds = new List<byte[]>();
        foreach (var ca in new[] { openssl.Ec, openssl.Rsa })
        {
            var pem = await ca.GenerateCrlAsync($"fuzz-{ca.Subject.GetHashCode():x}");
            seeds.Add(await File.ReadAllBytesAsync(pem));
            seeds.Add(await ca.ToDerAsync(pem));
        }
        var target = new FuzzTarget("crl", seeds) { Tokens = Mutator.Tokens("-----BEGIN X509 CRL-----", "-----END X509 CRL-----", "\x30\x82", "\x30\x81", "\x02\x01"), ShortInputs = 3000 };
        Fuzz.Run(target, (input, _) =>
        {
            var result = CrlDecoder.Decode(input);
            if ((result.Crl is null) == (result.Error is null)) throw new InvalidOperationException("a CRL or an error, exactly one");
            return result.Crl is null ? "refused" : "decoded";
        }, output.WriteLine);
    }

    [Fact]
    public async Task OpenSsh_certificate_lines()
    {
        using var dir = new TempDirectory();
        await Peer.RunAsync("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-C", "ca", "-f", dir.File("ca")]);
        await Peer.RunAsync("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-C", "alice", "-f", dir.File("alice")]);
        (await Peer.RunAsync("ssh-keygen", ["-q", "-s", dir.File("ca"), "-I", "alice@corp", "-n", "alice,deploy", "-V", "+1h",
            "-O", "source-address=10.0.0.0/8", dir.File("alice.pub")])).EnsureSuccess("ssh-keygen -s");
        using var ca = TestKeys.Create("P-256");
        using var user = TestKeys.Create("RSA-3072");
        var ours = new OpenSshCertificateSigner(ca).Sign(new OpenSshCertificateRequest(user, 42, OpenSshCertificateType.User, "bob", ["bob"],
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1)) { Extensions = ["permit-pty"] });
        byte[][] seeds = [await File.ReadAllBytesAsync(dir.File("alice-cert.pub")), Encoding.ASCII.GetBytes(ours.ToAuthorizedKeysLine("bob"))];
        var target = new FuzzTarget("openssh-certificate", seeds) { Tokens = Mutator.Tokens("ecdsa-sha2-nistp256-cert-v01@openssh.com", "AAAA", "=", " ", "/", "+") };
        // The base64 is what a mutation breaks first; half the inputs mutate the blob itself and re-encode it.
        Fuzz.Run(target, (input, random) =>
        {
            var line = Encoding.Latin1.GetString(input);
            if (random.Next(2) == 0 && line.Split(' ') is [var type, var blob, ..] && TryBase64(blob) is { } bytes)
                line = $"{type} {Convert.ToBase64String(Mutator.Mutate([bytes], [], random, 64 * 1024))} x";
            OpenSshCertificate certificate;
            try
            {
                certificate = OpenSshCertificate.Parse(line);
            }
            catch (FormatException)
            {
                return "refused";
            }
            _ = (certificate.ValidAfter, certificate.ValidBefore, certificate.PublicKey, certificate.IsValidAt(DateTimeOffset.UnixEpoch));
            return certificate.IsSignedBy(ca) ? "read, signed by our CA" : "read";
        }, output.WriteLine);
    }

    [Fact]
    public void Role_yaml()
    {
        string[] seeds =
        [
            """
            kind: role
            name: dev
            allow:
              logins: [ubuntu, '{{internal.logins}}', 'admin-{{external.groups}}-x']
              node_labels: { env: [dev, staging] }
              app_labels: { '*': '*' }
              db_labels: { env: dev }
              db_users: [app, '{{internal.db_users}}']
              db_names: ['*']
              kube_labels: { env: dev }
              kube_groups: [developers]
              kube_users: []
            deny: { node_labels: { env: 'prod*' }, logins: [root] }
            options: { max_session_ttl: 8h }
            ---
            kind: role
            name: admin
            allow:
              logins: [root]
              node_labels:
                '*': '*'
            """,
        ];
        var target = new FuzzTarget("role-yaml", [.. seeds.Select(Encoding.UTF8.GetBytes)])
        {
            Tokens = Mutator.Tokens("\n", "- ", ": ", "{", "}", "[", "]", "'", "\"", "&a ", "*a", "!!str ", "---\n", "{{", "}}", "internal.", "#", "? ", "|", ">"),
            ShortInputs = 2000,
            MemoryPerInputByte = 2048,
        };
        Fuzz.Run(target, (input, _) =>
        {
            var result = RoleParser.Parse(Encoding.UTF8.GetString(input), "fuzz.yaml");
            if (!result.IsSuccess && result.Roles.Count > 0) throw new InvalidOperationException("roles returned beside errors");
            return result.IsSuccess ? $"{Math.Min(result.Roles.Count, 2)} roles" : "errors";
        }, output.WriteLine);
    }

    private static byte[]? TryBase64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
