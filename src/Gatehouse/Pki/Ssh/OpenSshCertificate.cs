using System.Collections.ObjectModel;
using System.Security.Cryptography;

namespace Gatehouse.Pki.Ssh;

/// <summary>
/// An OpenSSH certificate (PROTOCOL.certkeys) as its key type and wire blob, with the fields
/// read back from the blob. Parsing checks the structure only; whether the certificate is
/// trusted is <see cref="IsSignedBy"/> plus the caller's own policy (principals, validity).
/// </summary>
internal sealed record OpenSshCertificate(string KeyType, byte[] Blob)
{
    public const string CertificateSuffix = "-cert-v01@openssh.com";

    // Get-only so that `with { Blob = … }` cannot leave the fields below describing another blob.
    public string KeyType { get; } = KeyType ?? throw new ArgumentNullException(nameof(KeyType));

    public byte[] Blob { get; } = (Blob ?? throw new ArgumentNullException(nameof(Blob))).ToArray();

    private readonly OpenSshCertificateBody _body = OpenSshCertificateBody.Read(KeyType, Blob);

    public byte[] Nonce => _body.Nonce;

    /// <summary>The certified key as a plain public key blob (what <see cref="OpenSshKeyFormat.PublicKeyBlob"/> gives).</summary>
    public byte[] PublicKey => _body.PublicKey;

    public ulong Serial => _body.Serial;

    public OpenSshCertificateType Type => _body.Type;

    public string KeyId => _body.KeyId;

    public IReadOnlyList<string> Principals => _body.Principals;

    public DateTimeOffset ValidAfter => _body.ValidAfter;

    /// <summary><see cref="DateTimeOffset.MaxValue"/> for a certificate that never expires.</summary>
    public DateTimeOffset ValidBefore => _body.ValidBefore;

    public IReadOnlyDictionary<string, string> CriticalOptions => _body.CriticalOptions;

    public IReadOnlyList<string> Extensions => _body.Extensions;

    /// <summary>The CA's public key blob.</summary>
    public byte[] SignatureKey => _body.SignatureKey;

    /// <summary>The signature blob: string algorithm + string signature data.</summary>
    public byte[] Signature => _body.Signature;

    /// <summary>PROTOCOL.certkeys: valid when valid after &lt;= now &lt; valid before.</summary>
    public bool IsValidAt(DateTimeOffset now) => ValidAfter <= now && now < ValidBefore;

    /// <summary>True when the signature key is this CA's public key and the signature verifies with it.</summary>
    public bool IsSignedBy(AsymmetricAlgorithm caPublicKey)
    {
        ArgumentNullException.ThrowIfNull(caPublicKey);
        return SignatureKey.AsSpan().SequenceEqual(OpenSshKeyFormat.PublicKeyBlob(caPublicKey))
            && OpenSshSignature.Verify(caPublicKey, Blob.AsSpan(0, _body.SignedLength), Signature);
    }

    /// <summary>"&lt;type&gt; &lt;base64 blob&gt; &lt;comment&gt;": the format of a *-cert.pub file.</summary>
    public string ToAuthorizedKeysLine(string comment) => OpenSshKeyFormat.KeyLine(KeyType, Blob, comment);

    /// <summary>Reads a *-cert.pub line. Throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static OpenSshCertificate Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var parts = line.Trim().Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2)
            throw new FormatException("An OpenSSH certificate line needs '<type> <base64 blob> [comment]'.");
        if (!parts[0].EndsWith(CertificateSuffix, StringComparison.Ordinal))
            throw new FormatException(
                $"'{Truncate(parts[0])}' is not an OpenSSH certificate type (expected a name ending in {CertificateSuffix}); key options before the type are not supported.");
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(parts[1]);
        }
        catch (FormatException e)
        {
            throw new FormatException("The certificate blob is not valid base64.", e);
        }
        return new OpenSshCertificate(parts[0], blob);
    }

    public bool Equals(OpenSshCertificate? other) =>
        other is not null && KeyType == other.KeyType && Blob.AsSpan().SequenceEqual(other.Blob);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(KeyType);
        hash.AddBytes(Blob);
        return hash.ToHashCode();
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";
}

/// <summary>The fields of a certificate blob, read in PROTOCOL.certkeys order.</summary>
internal sealed record OpenSshCertificateBody(
    byte[] Nonce,
    byte[] PublicKey,
    ulong Serial,
    OpenSshCertificateType Type,
    string KeyId,
    IReadOnlyList<string> Principals,
    DateTimeOffset ValidAfter,
    DateTimeOffset ValidBefore,
    IReadOnlyDictionary<string, string> CriticalOptions,
    IReadOnlyList<string> Extensions,
    byte[] SignatureKey,
    byte[] Signature,
    int SignedLength)
{
    public static OpenSshCertificateBody Read(string keyType, byte[] blob)
    {
        var reader = new SshWireReader(blob);
        var innerType = reader.ReadText("key type");
        if (innerType != keyType)
            throw new FormatException($"The line says '{keyType}' but the blob says '{innerType}'.");
        if (!keyType.EndsWith(OpenSshCertificate.CertificateSuffix, StringComparison.Ordinal))
            throw new FormatException($"'{keyType}' is not an OpenSSH certificate type.");
        var plainType = keyType[..^OpenSshCertificate.CertificateSuffix.Length];

        var nonce = reader.ReadString("nonce").ToArray();
        var publicKey = ReadPlainKey(ref reader, plainType);
        var serial = reader.ReadUInt64("serial");
        var type = reader.ReadUInt32("type") switch
        {
            1 => OpenSshCertificateType.User,
            2 => OpenSshCertificateType.Host,
            var other => throw new FormatException($"Certificate type {other} is neither user (1) nor host (2)."),
        };
        var keyId = reader.ReadText("key id");
        var principals = ReadPrincipals(reader.ReadString("valid principals"));
        var validAfter = OpenSshTime.FromWire(reader.ReadUInt64("valid after"));
        var validBefore = OpenSshTime.FromWire(reader.ReadUInt64("valid before"));
        var criticalOptions = ReadOptions(reader.ReadString("critical options"), "critical option", readValues: true);
        // Every defined extension is a flag; data of an unknown one is skipped, as sshd ignores it.
        var extensions = ReadOptions(reader.ReadString("extensions"), "extension", readValues: false);
        reader.ReadString("reserved"); // ignored in this version of the protocol
        var signatureKey = reader.ReadString("signature key").ToArray();
        var signedLength = reader.Position;
        var signature = reader.ReadString("signature").ToArray();
        reader.EnsureAtEnd("The certificate");

        return new OpenSshCertificateBody(nonce, publicKey, serial, type, keyId, principals, validAfter, validBefore,
            new ReadOnlyDictionary<string, string>(criticalOptions.ToDictionary(StringComparer.Ordinal)),
            [.. extensions.Select(e => e.Key)], signatureKey, signature, signedLength);
    }

    /// <summary>Reads the key fields after the nonce and rebuilds the plain key blob from them.</summary>
    private static byte[] ReadPlainKey(ref SshWireReader reader, string plainType)
    {
        var plain = new SshWireWriter();
        plain.WriteString(plainType);
        if (SshEcdsaCurve.FromKeyType(plainType) is { } curve)
        {
            var identifier = reader.ReadText("curve");
            if (identifier != curve.Identifier)
                throw new FormatException($"Key type {plainType} carries curve '{identifier}'.");
            plain.WriteString(identifier);
            plain.WriteString(reader.ReadString("ecdsa public key"));
        }
        else if (plainType == OpenSshKeyFormat.RsaKeyType)
        {
            plain.WriteMpint(reader.ReadUnsignedMpint("rsa e"));
            plain.WriteMpint(reader.ReadUnsignedMpint("rsa n"));
        }
        else if (plainType == "ssh-ed25519")
        {
            plain.WriteString(reader.ReadString("ed25519 public key"));
        }
        else
        {
            throw new FormatException($"Certificate key type '{plainType}{OpenSshCertificate.CertificateSuffix}' is not supported.");
        }
        return plain.ToArray();
    }

    private static string[] ReadPrincipals(ReadOnlySpan<byte> packed)
    {
        var reader = new SshWireReader(packed);
        var principals = new List<string>();
        while (!reader.AtEnd)
            principals.Add(reader.ReadText("principal"));
        return [.. principals];
    }

    /// <summary>(string name, string data) tuples; a flag's data is empty, a value's data is a string holding it.</summary>
    private static List<KeyValuePair<string, string>> ReadOptions(ReadOnlySpan<byte> packed, string what, bool readValues)
    {
        var reader = new SshWireReader(packed);
        var options = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (!reader.AtEnd)
        {
            var name = reader.ReadText(what + " name");
            var data = reader.ReadString(what + " data");
            var value = "";
            if (readValues && data.Length > 0)
            {
                var inner = new SshWireReader(data);
                value = inner.ReadText(what + " value");
                inner.EnsureAtEnd($"The {what} '{name}'");
            }
            if (!seen.Add(name))
                throw new FormatException($"The {what} '{name}' appears more than once.");
            options.Add(new(name, value));
        }
        return options;
    }
}
