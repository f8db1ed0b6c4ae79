using System.Numerics;
using System.Security.Cryptography;

namespace Gatehouse.Pki.Revocation;

/// <summary>
/// RSASSA-PSS verification with an explicit salt length (RFC 8017 §8.1.2 and §9.1.2).
/// .NET's <see cref="RSASignaturePadding.Pss"/> only accepts salt length = hash length, but a CRL's
/// RSASSA-PSS-params may name any salt length (RFC 4055 §3.1; OpenSSL's rsa_pss_saltlen), so we do
/// the public-key operation ourselves. Only public values are involved, so BigInteger's non-constant
/// time is not a concern here.
/// </summary>
internal static class RsaPssVerifier
{
    public static bool Verify(RSA publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature, HashAlgorithmName hash, int saltLength)
    {
        var key = publicKey.ExportParameters(includePrivateParameters: false);
        var modulus = new BigInteger(key.Modulus, isUnsigned: true, isBigEndian: true);
        var exponent = new BigInteger(key.Exponent, isUnsigned: true, isBigEndian: true);

        // RFC 8017 §8.1.2 step 1: the signature is exactly k octets; RSAVP1 (§5.2.2) needs s < n.
        var k = key.Modulus!.Length;
        if (signature.Length != k)
            return false;
        var s = new BigInteger(signature, isUnsigned: true, isBigEndian: true);
        if (s >= modulus)
            return false;
        var m = BigInteger.ModPow(s, exponent, modulus);

        // §8.1.2 step 2c: EM = I2OSP(m, emLen) with emBits = modBits - 1.
        var emBits = (int)modulus.GetBitLength() - 1;
        var emLength = (emBits + 7) / 8;
        if (m.GetByteCount(isUnsigned: true) > emLength)
            return false;
        var em = new byte[emLength];
        m.TryWriteBytes(em.AsSpan(emLength - m.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);

        return EmsaPssVerify(message, em, emBits, hash, saltLength);
    }

    // RFC 8017 §9.1.2, steps numbered as there.
    private static bool EmsaPssVerify(ReadOnlySpan<byte> message, byte[] em, int emBits, HashAlgorithmName hash, int saltLength)
    {
        var mHash = CryptographicOperations.HashData(hash, message);                        // 2
        var hLen = mHash.Length;
        var emLen = em.Length;
        if (saltLength > emLen || emLen < hLen + saltLength + 2) return false;              // 3
        if (em[^1] != 0xBC) return false;                                                    // 4
        var maskedDb = em.AsSpan(0, emLen - hLen - 1);                                       // 5
        var h = em.AsSpan(emLen - hLen - 1, hLen);
        var unusedBits = 8 * emLen - emBits;
        var topMask = (byte)(0xFF >> unusedBits);
        if ((maskedDb[0] & ~topMask) != 0) return false;                                     // 6
        var db = Mgf1(h, maskedDb.Length, hash);                                             // 7
        for (var i = 0; i < db.Length; i++) db[i] ^= maskedDb[i];                            // 8
        db[0] &= topMask;                                                                    // 9
        var padding = emLen - hLen - saltLength - 2;                                         // 10
        if (db.AsSpan(0, padding).ContainsAnyExcept((byte)0) || db[padding] != 0x01) return false;
        var salt = db.AsSpan(db.Length - saltLength);                                        // 11
        var mPrime = new byte[8 + hLen + saltLength];                                        // 12
        mHash.CopyTo(mPrime.AsSpan(8));
        salt.CopyTo(mPrime.AsSpan(8 + hLen));
        var hPrime = CryptographicOperations.HashData(hash, mPrime);                         // 13
        return CryptographicOperations.FixedTimeEquals(h, hPrime);                           // 14
    }

    // RFC 8017 appendix B.2.1.
    private static byte[] Mgf1(ReadOnlySpan<byte> seed, int length, HashAlgorithmName hash)
    {
        var output = new byte[length];
        var input = new byte[seed.Length + 4];
        seed.CopyTo(input);
        var written = 0;
        for (uint counter = 0; written < length; counter++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(input.AsSpan(seed.Length), counter);
            var block = CryptographicOperations.HashData(hash, input);
            var take = Math.Min(block.Length, length - written);
            block.AsSpan(0, take).CopyTo(output.AsSpan(written));
            written += take;
        }
        return output;
    }
}
