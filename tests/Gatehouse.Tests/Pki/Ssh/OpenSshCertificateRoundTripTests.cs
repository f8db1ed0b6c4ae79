using System.Security.Cryptography;
using Gatehouse.Pki.Ssh;

namespace Gatehouse.Tests.Pki.Ssh;

public sealed class OpenSshCertificateRoundTripTests
{
    public static TheoryData<string, string> CaAndSubjectKinds()
    {
        var data = new TheoryData<string, string>();
        foreach (var ca in new[] { "P-256", "P-384", "P-521", "RSA-3072" })
            foreach (var subject in new[] { "P-256", "RSA-3072" })
                data.Add(ca, subject);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaAndSubjectKinds))]
    public void Signed_certificate_parses_back_to_the_same_fields(string caKind, string subjectKind)
    {
        using var ca = TestKeys.Create(caKind);
        using var subject = TestKeys.Create(subjectKind);
        var validAfter = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);
        var request = new OpenSshCertificateRequest(subject, 0x8000_0000_0000_0042, OpenSshCertificateType.User,
            "alice@gatehouse", ["alice", "deploy"], validAfter, validAfter.AddHours(8))
        {
            CriticalOptions = new Dictionary<string, string> { ["source-address"] = "10.0.0.0/8", ["force-command"] = "/bin/true" },
            Extensions = ["permit-pty", "permit-agent-forwarding"],
        };

        var issued = new OpenSshCertificateSigner(ca).Sign(request);
        var line = issued.ToAuthorizedKeysLine("alice@gatehouse");
        var parsed = OpenSshCertificate.Parse(line);

        Assert.Equal(TestKeys.CertificateType(subjectKind), parsed.KeyType);
        Assert.StartsWith(parsed.KeyType + " ", line);
        Assert.EndsWith(" alice@gatehouse", line);
        Assert.Equal(issued, parsed);
        Assert.Equal(32, parsed.Nonce.Length);
        Assert.Equal(OpenSshKeyFormat.PublicKeyBlob(subject), parsed.PublicKey);
        Assert.Equal(request.Serial, parsed.Serial);
        Assert.Equal(OpenSshCertificateType.User, parsed.Type);
        Assert.Equal("alice@gatehouse", parsed.KeyId);
        Assert.Equal(["alice", "deploy"], parsed.Principals);
        Assert.Equal(validAfter, parsed.ValidAfter);
        Assert.Equal(validAfter.AddHours(8), parsed.ValidBefore);
        // Read back in wire order: sorted by name (PROTOCOL.certkeys).
        Assert.Equal(["force-command", "source-address"], parsed.CriticalOptions.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("10.0.0.0/8", parsed.CriticalOptions["source-address"]);
        Assert.Equal("/bin/true", parsed.CriticalOptions["force-command"]);
        Assert.Equal(["permit-agent-forwarding", "permit-pty"], parsed.Extensions);
        Assert.Equal(OpenSshKeyFormat.PublicKeyBlob(ca), parsed.SignatureKey);
        Assert.True(parsed.IsSignedBy(ca));
        Assert.True(parsed.IsValidAt(validAfter));
        Assert.False(parsed.IsValidAt(validAfter.AddHours(8)));
    }

    [Fact]
    public void Standard_extensions_are_sorted_ordinally_on_the_wire()
    {
        using var ca = TestKeys.Create("P-256");
        using var subject = TestKeys.Create("P-256");
        var cert = new OpenSshCertificateSigner(ca).Sign(Request(subject));
        // Ordinal: the upper-case X of permit-X11-forwarding sorts before every lower-case letter.
        Assert.Equal(["permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"],
            cert.Extensions);
        Assert.Empty(cert.CriticalOptions);
    }

    [Fact]
    public void Ecdsa_signatures_verify_whatever_the_high_bit_of_r_and_s()
    {
        // About half of all r and s values have the high bit set and need mpint's leading zero;
        // forty signatures make it all but certain both shapes are exercised.
        using var ca = TestKeys.Create("P-256");
        using var subject = TestKeys.Create("P-256");
        var signer = new OpenSshCertificateSigner(ca);
        for (var i = 0; i < 40; i++)
            Assert.True(signer.Sign(Request(subject)).IsSignedBy(ca));
    }

    [Fact]
    public void Signature_does_not_verify_with_another_ca_or_after_tampering()
    {
        using var ca = TestKeys.Create("P-256");
        using var otherCa = TestKeys.Create("P-256");
        using var subject = TestKeys.Create("P-256");
        var cert = new OpenSshCertificateSigner(ca).Sign(Request(subject));
        Assert.False(cert.IsSignedBy(otherCa));

        var tampered = cert.Blob.ToArray();
        var keyId = System.Text.Encoding.UTF8.GetBytes("alice");
        var at = tampered.AsSpan().IndexOf(keyId);
        tampered[at] = (byte)'m'; // "mlice"
        var forged = new OpenSshCertificate(cert.KeyType, tampered);
        Assert.Equal("mlice", forged.KeyId);
        Assert.False(forged.IsSignedBy(ca));
    }

    [Fact]
    public void Forever_certificate_does_not_overflow()
    {
        using var ca = TestKeys.Create("P-256");
        using var subject = TestKeys.Create("P-256");
        var cert = new OpenSshCertificateSigner(ca).Sign(Request(subject) with { ValidBefore = DateTimeOffset.MaxValue });
        Assert.Equal(DateTimeOffset.MaxValue, cert.ValidBefore);
        Assert.True(cert.IsValidAt(new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    public static TheoryData<string, string> InvalidRequests() => new()
    {
        { "empty key id", "KeyId is empty" },
        { "nul in principal", "Principals[1]" },
        { "no principals", "Principals is empty" },
        { "before equals after", "ValidBefore" },
        { "before before after", "ValidBefore" },
        { "unsupported key", "not supported" },
        { "small rsa", "too small" },
        { "undefined type", "neither User" },
        { "duplicate extension", "more than once" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public void Invalid_request_is_refused_with_a_reason(string problem, string expectedInMessage)
    {
        using var ca = TestKeys.Create("P-256");
        using var subject = TestKeys.Create("P-256");
        using var dh = ECDiffieHellman.Create();
        using var smallRsa = RSA.Create(1024);
        var request = Request(subject);
        request = problem switch
        {
            "empty key id" => request with { KeyId = "" },
            "nul in principal" => request with { Principals = ["alice", "bo\0b"] },
            "no principals" => request with { Principals = [] },
            "before equals after" => request with { ValidBefore = request.ValidAfter.AddMilliseconds(500) },
            "before before after" => request with { ValidBefore = request.ValidAfter.AddHours(-1) },
            "unsupported key" => request with { SubjectPublicKey = dh },
            "small rsa" => request with { SubjectPublicKey = smallRsa },
            "undefined type" => request with { Type = (OpenSshCertificateType)3 },
            "duplicate extension" => request with { Extensions = ["permit-pty", "permit-pty"] },
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };
        var e = Assert.Throws<ArgumentException>(() => new OpenSshCertificateSigner(ca).Sign(request));
        Assert.Contains(expectedInMessage, e.Message);
    }

    [Fact]
    public void Ca_key_without_a_private_part_or_of_an_unsupported_type_is_refused()
    {
        using var ca = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var publicOnly = ECDsa.Create(ca.ExportParameters(includePrivateParameters: false));
        Assert.Contains("no private part", Assert.Throws<ArgumentException>(() => new OpenSshCertificateSigner(publicOnly)).Message);
        using var brainpool = ECDsa.Create(ECCurve.NamedCurves.brainpoolP256r1);
        Assert.Contains("P-256, P-384 or P-521", Assert.Throws<ArgumentException>(() => new OpenSshCertificateSigner(brainpool)).Message);
    }

    [Fact]
    public void Parse_says_what_is_wrong_with_a_bad_line()
    {
        using var ca = TestKeys.Create("P-256");
        using var subject = TestKeys.Create("P-256");
        var cert = new OpenSshCertificateSigner(ca).Sign(Request(subject));
        var base64 = Convert.ToBase64String(cert.Blob);

        Assert.Contains("needs", ParseError(""));
        Assert.Contains("not an OpenSSH certificate type", ParseError("ecdsa-sha2-nistp256 " + base64));
        Assert.Contains("not valid base64", ParseError(cert.KeyType + " not*base64"));
        Assert.Contains("blob says", ParseError("ssh-rsa-cert-v01@openssh.com " + base64));
        Assert.Contains("field 'signature'", ParseError(cert.KeyType + " " + Convert.ToBase64String(cert.Blob[..^10])));
        Assert.Contains("trailing", ParseError(cert.KeyType + " " + Convert.ToBase64String([.. cert.Blob, 0])));
        // Whitespace around and a comment with spaces are fine.
        Assert.Equal(cert, OpenSshCertificate.Parse("  " + cert.KeyType + "\t" + base64 + " a comment with spaces \n"));
    }

    private static string ParseError(string line) => Assert.Throws<FormatException>(() => OpenSshCertificate.Parse(line)).Message;

    private static OpenSshCertificateRequest Request(AsymmetricAlgorithm subject)
    {
        // Whole seconds, as on the wire, so "half a second later" stays in the same second.
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        return new OpenSshCertificateRequest(subject, 7, OpenSshCertificateType.User, "alice", ["alice"], now.AddMinutes(-5), now.AddHours(1));
    }
}
