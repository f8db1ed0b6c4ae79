using System.Security.Cryptography;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// Issues OpenSSH certificates (PROTOCOL.certkeys, "*-cert-v01@openssh.com") with an ECDSA
/// P-256/384/521 or RSA CA key. RSA CAs sign with rsa-sha2-512 (RFC 8332).
/// The signer borrows the CA key: the caller owns it and disposes it after the signer.
/// </summary>
internal sealed class OpenSshCertificateSigner
{
    /// <summary>PROTOCOL.certkeys: the nonce is a CA-chosen random value that makes hash-collision attacks impractical.</summary>
    private const int NonceLength = 32;

    private readonly AsymmetricAlgorithm _caKey;
    private readonly byte[] _caPublicKeyBlob;

    public OpenSshCertificateSigner(AsymmetricAlgorithm caPrivateKey)
    {
        ArgumentNullException.ThrowIfNull(caPrivateKey);
        _caPublicKeyBlob = OpenSshKeyFormat.PublicKeyBlob(caPrivateKey); // throws for unsupported keys
        // Find a public-only key now rather than on the first login; signing is the portable probe
        // (exporting private parameters would copy the secret into managed memory for nothing).
        try
        {
            OpenSshSignature.Sign(caPrivateKey, "gatehouse-ca-probe"u8);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException("The CA key cannot sign; it has no private part.", nameof(caPrivateKey), e);
        }
        _caKey = caPrivateKey;
    }

    public OpenSshCertificate Sign(OpenSshCertificateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.ThrowIfInvalid();

        var keyType = OpenSshKeyFormat.KeyType(request.SubjectPublicKey) + OpenSshCertificate.CertificateSuffix;
        var writer = new SshWireWriter();

        // 1. The signed part, field by field in PROTOCOL.certkeys order.
        writer.WriteString(keyType);
        writer.WriteString(RandomNumberGenerator.GetBytes(NonceLength));
        OpenSshKeyFormat.WriteKeyFields(writer, request.SubjectPublicKey);
        writer.WriteUInt64(request.Serial);
        writer.WriteUInt32((uint)request.Type);
        writer.WriteString(request.KeyId);
        writer.WriteString(PackPrincipals(request.Principals));
        writer.WriteUInt64(OpenSshTime.ToWire(request.ValidAfter));
        writer.WriteUInt64(OpenSshTime.ToWire(request.ValidBefore));
        writer.WriteString(PackOptions(request.CriticalOptions.Select(o => (o.Key, o.Value))));
        writer.WriteString(PackOptions(request.Extensions.Select(name => (name, ""))));
        writer.WriteString(ReadOnlySpan<byte>.Empty); // reserved
        writer.WriteString(_caPublicKeyBlob);

        // 2. The signature covers everything from the key type up to and including the signature key.
        var signature = OpenSshSignature.Sign(_caKey, writer.WrittenSpan);
        writer.WriteString(signature);

        return new OpenSshCertificate(keyType, writer.ToArray());
    }

    /// <summary>"valid principals": a string holding zero or more packed strings.</summary>
    private static byte[] PackPrincipals(IReadOnlyList<string> principals)
    {
        var packed = new SshWireWriter();
        foreach (var principal in principals)
            packed.WriteString(principal);
        return packed.ToArray();
    }

    /// <summary>
    /// Critical options and extensions: (string name, string data) tuples, lexically ordered by
    /// name (PROTOCOL.certkeys; ordinal, as OpenSSH compares with strcmp). A flag (value "", e.g.
    /// every extension, or the verify-required option) has empty data; a valued option such as
    /// force-command has data that is itself a string holding the value.
    /// </summary>
    private static byte[] PackOptions(IEnumerable<(string Name, string Value)> options)
    {
        var packed = new SshWireWriter();
        foreach (var (name, value) in options.OrderBy(o => o.Name, StringComparer.Ordinal))
        {
            packed.WriteString(name);
            if (value.Length == 0)
            {
                packed.WriteString(ReadOnlySpan<byte>.Empty);
            }
            else
            {
                var data = new SshWireWriter();
                data.WriteString(value);
                packed.WriteString(data.WrittenSpan);
            }
        }
        return packed.ToArray();
    }
}
