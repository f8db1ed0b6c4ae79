using System.Security.Cryptography;
using System.Text;
using Gatehouse.Access.Login;
using Gatehouse.Testing;
using Gatehouse.Testing.Fuzzing;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Fuzzing;

/// <summary>The public key a login request carries (the network's, before any password is checked): PEM → SPKI → key.</summary>
public sealed class LoginFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void A_key_off_its_curve_or_on_an_unknown_one_is_refused_not_thrown()
    {
        // The fuzzer's find: the SPKI parses, and the EC point is imported only when the key is asked for — where a
        // point off the curve threw out of the login request.
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = ec.ExportSubjectPublicKeyInfo();
        spki[^1] ^= 0x01; // the last byte of y: y² ≠ x³ + ax + b
        var pem = PemEncoding.WriteString("PUBLIC KEY", spki);

        Assert.False(LoginService.TryReadPublicKey(pem, out _, out var problem));
        Assert.Contains("PUBLIC KEY", problem);

        // And a curve the platform does not know (P-256's OID, 1.2.840.10045.3.1.7, with its last arc changed).
        var unknown = ec.ExportSubjectPublicKeyInfo();
        var oid = unknown.AsSpan().IndexOf(new byte[] { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 });
        unknown[oid + 7] = 0x63;
        Assert.False(LoginService.TryReadPublicKey(PemEncoding.WriteString("PUBLIC KEY", unknown), out _, out _));
    }

    [Fact]
    public async Task Login_public_key()
    {
        using var dir = new TempDirectory();
        (await Peer.RunAsync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", dir.File("k.pem")])).EnsureSuccess("openssl genpkey");
        var openssl = (await Peer.RunAsync("openssl", ["pkey", "-in", dir.File("k.pem"), "-pubout"])).EnsureSuccess("openssl pkey").Stdout;
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        var target = new FuzzTarget("login-public-key",
            [Encoding.ASCII.GetBytes(openssl), Encoding.ASCII.GetBytes(ec.ExportSubjectPublicKeyInfoPem()), Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())])
        {
            Tokens = Mutator.Tokens("-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----", "\n", "=", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
        };
        // Half the inputs mutate the DER inside the PEM, so the SPKI parser and key import see more than bad base64.
        Fuzz.Run(target, (input, random) =>
        {
            var text = Encoding.Latin1.GetString(input);
            if (random.Next(2) == 0 && PemEncoding.TryFind(text, out var fields) && text[fields.Label] == "PUBLIC KEY")
                text = PemEncoding.WriteString("PUBLIC KEY", Mutator.Mutate([Convert.FromBase64String(text[fields.Base64Data])], [], random, 4096));
            return LoginService.TryReadPublicKey(text, out _, out _) ? "a key" : "refused";
        }, output.WriteLine);
    }
}
