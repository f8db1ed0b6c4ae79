using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Revocation;

internal enum CrlSignatureScheme { RsaPkcs1, RsaPss, Ecdsa, Refused }

/// <summary>
/// A CRL's signatureAlgorithm (RFC 5280 §5.1.1.2) decoded into what we need to verify it, or into the
/// reason we refuse it. Only SHA-256/384/512 with RSA PKCS#1 v1.5, RSASSA-PSS or ECDSA are accepted;
/// SHA-1 and MD5 are collision-prone and anything else is unknown to us.
/// </summary>
internal sealed record CrlSignatureAlgorithm(string Name, CrlSignatureScheme Scheme, HashAlgorithmName Hash, int PssSaltLength, string? Refusal)
{
    private const string Accepted = "SHA-256/384/512 only";

    // RFC 4055 §5 / RFC 5758 §3.2 / RFC 4055 §3.1 and §2.1 (hash and MGF1 OIDs).
    private const string RsaPss = "1.2.840.113549.1.1.10";
    private const string Mgf1 = "1.2.840.113549.1.1.8";

    private static readonly Dictionary<string, (string Name, CrlSignatureScheme Scheme, HashAlgorithmName Hash)> Known = new()
    {
        ["1.2.840.113549.1.1.11"] = ("sha256WithRSAEncryption", CrlSignatureScheme.RsaPkcs1, HashAlgorithmName.SHA256),
        ["1.2.840.113549.1.1.12"] = ("sha384WithRSAEncryption", CrlSignatureScheme.RsaPkcs1, HashAlgorithmName.SHA384),
        ["1.2.840.113549.1.1.13"] = ("sha512WithRSAEncryption", CrlSignatureScheme.RsaPkcs1, HashAlgorithmName.SHA512),
        ["1.2.840.10045.4.3.2"] = ("ecdsa-with-SHA256", CrlSignatureScheme.Ecdsa, HashAlgorithmName.SHA256),
        ["1.2.840.10045.4.3.3"] = ("ecdsa-with-SHA384", CrlSignatureScheme.Ecdsa, HashAlgorithmName.SHA384),
        ["1.2.840.10045.4.3.4"] = ("ecdsa-with-SHA512", CrlSignatureScheme.Ecdsa, HashAlgorithmName.SHA512),
        // Known only so that the refusal can name them.
        ["1.2.840.113549.1.1.2"] = ("md2WithRSAEncryption", CrlSignatureScheme.Refused, default),
        ["1.2.840.113549.1.1.4"] = ("md5WithRSAEncryption", CrlSignatureScheme.Refused, default),
        ["1.2.840.113549.1.1.5"] = ("sha1WithRSAEncryption", CrlSignatureScheme.Refused, default),
        ["1.2.840.113549.1.1.14"] = ("sha224WithRSAEncryption", CrlSignatureScheme.Refused, default),
        ["1.2.840.10045.4.1"] = ("ecdsa-with-SHA1", CrlSignatureScheme.Refused, default),
        ["1.2.840.10045.4.3.1"] = ("ecdsa-with-SHA224", CrlSignatureScheme.Refused, default),
        ["1.2.840.10040.4.3"] = ("dsa-with-sha1", CrlSignatureScheme.Refused, default),
        ["1.3.101.112"] = ("Ed25519", CrlSignatureScheme.Refused, default),
    };

    private static readonly Dictionary<string, (string Name, HashAlgorithmName Hash)> Hashes = new()
    {
        ["1.3.14.3.2.26"] = ("sha1", HashAlgorithmName.SHA1),
        ["2.16.840.1.101.3.4.2.4"] = ("sha224", default),
        ["2.16.840.1.101.3.4.2.1"] = ("sha256", HashAlgorithmName.SHA256),
        ["2.16.840.1.101.3.4.2.2"] = ("sha384", HashAlgorithmName.SHA384),
        ["2.16.840.1.101.3.4.2.3"] = ("sha512", HashAlgorithmName.SHA512),
    };

    /// <summary>Decodes a DER AlgorithmIdentifier. Throws <see cref="AsnContentException"/> only when it is not DER at all.</summary>
    public static CrlSignatureAlgorithm Decode(ReadOnlyMemory<byte> encoded)
    {
        var (oid, parameters) = ReadAlgorithmIdentifier(encoded);
        if (oid == RsaPss)
            return DecodePss(parameters);
        if (!Known.TryGetValue(oid, out var known))
            return Refuse(oid, $"signature algorithm {oid} is not accepted ({Accepted})");
        if (known.Scheme == CrlSignatureScheme.Refused)
            return Refuse(known.Name, $"signature algorithm {known.Name} is not accepted ({Accepted})");
        // RFC 4055 §5: RSA parameters are NULL (absent is tolerated, as OpenSSL does);
        // RFC 5758 §3.2: ECDSA parameters are absent.
        var parametersOk = known.Scheme == CrlSignatureScheme.Ecdsa ? parameters is null : parameters is null || IsNull(parameters.Value);
        if (!parametersOk)
            return Refuse(known.Name, $"signature algorithm {known.Name} has unexpected parameters");
        return new CrlSignatureAlgorithm(known.Name, known.Scheme, known.Hash, 0, null);
    }

    /// <summary>Checks <paramref name="signature"/> over <paramref name="signedBytes"/> with the public key of <paramref name="issuer"/>.</summary>
    public CrlSignatureCheck Verify(ReadOnlySpan<byte> signedBytes, ReadOnlySpan<byte> signature, X509Certificate2 issuer)
    {
        if (Refusal is not null)
            return CrlSignatureCheck.Invalid(Refusal);
        var doesNotVerify = CrlSignatureCheck.Invalid($"the CRL signature does not verify with the key of {issuer.Subject}");
        try
        {
            switch (Scheme)
            {
                case CrlSignatureScheme.Ecdsa:
                {
                    using var ecdsa = issuer.GetECDsaPublicKey();
                    if (ecdsa is null)
                        return CrlSignatureCheck.Invalid($"the CRL is signed with {Name} but {issuer.Subject} does not have an EC key");
                    // RFC 5480 §2.2.3 / RFC 3279 §2.2.3: the BIT STRING holds a DER Ecdsa-Sig-Value.
                    return ecdsa.VerifyData(signedBytes, signature, Hash, DSASignatureFormat.Rfc3279DerSequence)
                        ? CrlSignatureCheck.Valid : doesNotVerify;
                }
                default:
                {
                    using var rsa = issuer.GetRSAPublicKey();
                    if (rsa is null)
                        return CrlSignatureCheck.Invalid($"the CRL is signed with {Name} but {issuer.Subject} does not have an RSA key");
                    var verified = Scheme == CrlSignatureScheme.RsaPss
                        ? RsaPssVerifier.Verify(rsa, signedBytes, signature, Hash, PssSaltLength)
                        : rsa.VerifyData(signedBytes, signature, Hash, RSASignaturePadding.Pkcs1);
                    return verified ? CrlSignatureCheck.Valid : doesNotVerify;
                }
            }
        }
        catch (CryptographicException e)
        {
            // A key the platform cannot load, or a signature it cannot even decode: still just "not valid".
            return CrlSignatureCheck.Invalid($"the CRL signature could not be checked with the key of {issuer.Subject}: {e.Message}");
        }
    }

    // RFC 4055 §3.1: RSASSA-PSS-params, EXPLICIT tags, every field with a DEFAULT (SHA-1 / MGF1-SHA-1 / 20 / 1).
    private static CrlSignatureAlgorithm DecodePss(ReadOnlyMemory<byte>? parameters)
    {
        const string name = "rsassaPss";
        if (parameters is null)
            return Refuse(name, $"signature algorithm {name} without parameters means SHA-1 and is not accepted ({Accepted})");

        var sequence = new AsnReader(parameters.Value, AsnEncodingRules.DER).ReadSequence();
        string hashOid = "1.3.14.3.2.26", mgfOid = Mgf1, mgfHashOid = "1.3.14.3.2.26";
        var saltLength = 20;
        var trailer = 1;
        if (sequence.HasData && sequence.PeekTag().HasSameClassAndValue(Tag(0)))
            hashOid = ReadHashAlgorithm(sequence.ReadSequence(Tag(0)).ReadEncodedValue());
        if (sequence.HasData && sequence.PeekTag().HasSameClassAndValue(Tag(1)))
        {
            var (oid, mgfParameters) = ReadAlgorithmIdentifier(sequence.ReadSequence(Tag(1)).ReadEncodedValue());
            mgfOid = oid;
            mgfHashOid = mgfParameters is null ? "" : ReadHashAlgorithm(mgfParameters.Value);
        }
        if (sequence.HasData && sequence.PeekTag().HasSameClassAndValue(Tag(2)))
            saltLength = ReadSmallInteger(sequence.ReadSequence(Tag(2)));
        if (sequence.HasData && sequence.PeekTag().HasSameClassAndValue(Tag(3)))
            trailer = ReadSmallInteger(sequence.ReadSequence(Tag(3)));
        sequence.ThrowIfNotEmpty();

        var hashName = Hashes.TryGetValue(hashOid, out var h) ? h.Name : hashOid;
        var described = $"{name} with {hashName}";
        if (h.Hash != HashAlgorithmName.SHA256 && h.Hash != HashAlgorithmName.SHA384 && h.Hash != HashAlgorithmName.SHA512)
            return Refuse(described, $"signature algorithm {described} is not accepted ({Accepted})");
        if (mgfOid != Mgf1 || mgfHashOid != hashOid)
            return Refuse(described, $"signature algorithm {described} must use MGF1 with the same hash (RFC 4055 §3.1)");
        if (trailer != 1)
            return Refuse(described, $"signature algorithm {described} has trailer field {trailer}; only 1 is defined (RFC 4055 §3.1)");
        if (saltLength < 0)
            return Refuse(described, $"signature algorithm {described} has a salt length out of range");
        return new CrlSignatureAlgorithm($"{described}, salt {saltLength}", CrlSignatureScheme.RsaPss, h.Hash, saltLength, null);
    }

    private static string ReadHashAlgorithm(ReadOnlyMemory<byte> encoded)
    {
        var (oid, parameters) = ReadAlgorithmIdentifier(encoded);
        // RFC 4055 §2.1: hash parameters are NULL or absent; anything else is not a hash we know.
        return parameters is null || IsNull(parameters.Value) ? oid : $"{oid} with parameters";
    }

    private static (string Oid, ReadOnlyMemory<byte>? Parameters) ReadAlgorithmIdentifier(ReadOnlyMemory<byte> encoded)
    {
        var reader = new AsnReader(encoded, AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        reader.ThrowIfNotEmpty();
        var oid = sequence.ReadObjectIdentifier();
        // The cast matters: a bare null would become an empty ReadOnlyMemory via the byte[] conversion.
        var parameters = sequence.HasData ? sequence.ReadEncodedValue() : (ReadOnlyMemory<byte>?)null;
        sequence.ThrowIfNotEmpty();
        return (oid, parameters);
    }

    private static int ReadSmallInteger(AsnReader explicitWrapper)
    {
        var ok = explicitWrapper.TryReadInt32(out var value);
        explicitWrapper.ThrowIfNotEmpty();
        return ok ? value : -1;
    }

    private static bool IsNull(ReadOnlyMemory<byte> encoded) => encoded.Span.SequenceEqual((ReadOnlySpan<byte>)[0x05, 0x00]);

    private static Asn1Tag Tag(int number) => new(TagClass.ContextSpecific, number, isConstructed: true);

    private static CrlSignatureAlgorithm Refuse(string name, string why) => new(name, CrlSignatureScheme.Refused, default, 0, why);
}
