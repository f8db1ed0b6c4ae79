using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;

namespace Gatehouse.Pki.Ocsp;

internal enum OcspCertStatus { Good, Revoked, Unknown }

/// <summary>A verified answer about one certificate (RFC 6960 §4.2.1 SingleResponse).</summary>
internal sealed record OcspAnswer(OcspCertStatus Status, DateTimeOffset ThisUpdate, DateTimeOffset? NextUpdate, DateTimeOffset? RevokedAt);

/// <summary>Either a verified answer or one sentence saying why there is none; <see cref="Until"/> is how long it may be cached.</summary>
internal sealed record OcspCheck(OcspAnswer? Answer, string? Error, DateTimeOffset Until);

/// <summary>
/// Decodes and verifies an OCSPResponse (RFC 6960 §4.2) for one CertID: successful status, the basic response type,
/// a signature by the CA itself or by a responder certificate the CA issued for id-kp-OCSPSigning (§4.2.2.2), the
/// nonce when the responder echoes one, and thisUpdate/nextUpdate against the clock. Never throws for what a
/// responder sends: anything malformed is an error sentence.
/// </summary>
internal static class OcspResponseDecoder
{
    private const string BasicResponse = "1.3.6.1.5.5.7.48.1.1";
    private const string OcspSigning = "1.3.6.1.5.5.7.3.9";

    /// <summary>Clock skew tolerated on thisUpdate and nextUpdate.</summary>
    public static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    /// <summary>A response without nextUpdate is only believed this long after its thisUpdate (RFC 5019 §2.2.4 leaves it to us).</summary>
    public static readonly TimeSpan MaxAgeWithoutNextUpdate = TimeSpan.FromHours(1);

    private static readonly string[] StatusNames = ["successful", "malformedRequest", "internalError", "tryLater", "(unused)", "sigRequired", "unauthorized"];

    private static Asn1Tag Context(int number, bool constructed = true) => new(TagClass.ContextSpecific, number, constructed);

    /// <returns>The answer, or an error; never throws.</returns>
    public static (OcspAnswer? Answer, string? Error) Decode(ReadOnlyMemory<byte> der, OcspCertId id, X509Certificate2 issuer, byte[]? nonce, DateTimeOffset now)
    {
        try
        {
            return DecodeUnchecked(der, id, issuer, nonce, now);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException or InvalidOperationException or OverflowException)
        {
            return (null, $"the OCSP response is malformed ({e.Message.TrimEnd('.')})");
        }
    }

    private static (OcspAnswer?, string?) DecodeUnchecked(ReadOnlyMemory<byte> der, OcspCertId id, X509Certificate2 issuer, byte[]? nonce, DateTimeOffset now)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER);
        var response = outer.ReadSequence();
        outer.ThrowIfNotEmpty();
        var status = response.ReadEnumeratedBytes().Span;
        if (status.Length != 1 || status[0] != 0)
        {
            var code = status.Length == 1 ? status[0] : -1;
            return (null, $"the OCSP responder refused the request ({(code is >= 0 and < 7 ? StatusNames[code] : "status " + code)})");
        }
        var bytes = response.ReadSequence(Context(0)).ReadSequence();
        if (bytes.ReadObjectIdentifier() != BasicResponse)
            return (null, "the OCSP response is not of the basic type (RFC 6960 §4.2.1)");
        var basic = new AsnReader(bytes.ReadOctetString(), AsnEncodingRules.DER).ReadSequence();
        var tbs = basic.ReadEncodedValue();
        var algorithm = CrlSignatureAlgorithm.Decode(basic.ReadEncodedValue());
        if (!basic.TryReadPrimitiveBitString(out var unused, out var signature) || unused != 0)
            return (null, "the OCSP response's signature is not a whole number of bytes");
        var certificates = new List<X509Certificate2>();
        try
        {
            if (basic.HasData)
            {
                var list = basic.ReadSequence(Context(0)).ReadSequence();
                while (list.HasData && certificates.Count < 8)
                    certificates.Add(X509CertificateLoader.LoadCertificate(list.ReadEncodedValue().Span));
            }
            return Judge(tbs, algorithm, signature, certificates, id, issuer, nonce, now);
        }
        finally
        {
            foreach (var certificate in certificates) certificate.Dispose();
        }
    }

    private static (OcspAnswer?, string?) Judge(ReadOnlyMemory<byte> tbs, CrlSignatureAlgorithm algorithm, ReadOnlyMemory<byte> signature,
        List<X509Certificate2> certificates, OcspCertId id, X509Certificate2 issuer, byte[]? nonce, DateTimeOffset now)
    {
        var data = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
        if (data.PeekTag().HasSameClassAndValue(Context(0))) data.ReadSequence(Context(0)); // version v1
        byte[]? byName = null, byKey = null;
        if (data.PeekTag().HasSameClassAndValue(Context(1))) byName = data.ReadSequence(Context(1)).ReadEncodedValue().ToArray();
        else byKey = data.ReadSequence(Context(2)).ReadOctetString();
        data.ReadGeneralizedTime(); // producedAt
        var responses = data.ReadSequence();
        byte[]? echoed = null;
        if (data.HasData && data.PeekTag().HasSameClassAndValue(Context(1)))
            echoed = ReadNonce(data.ReadSequence(Context(1)).ReadSequence());

        // 1. Who signed: the CA, or a responder certificate the CA issued for OCSP signing.
        bool Named(X509Certificate2 c) => byName is not null ? c.SubjectName.RawData.AsSpan().SequenceEqual(byName) : OcspCertId.KeyHash(c).AsSpan().SequenceEqual(byKey);
        X509Certificate2 signer;
        if (Named(issuer)) signer = issuer;
        else if (certificates.FirstOrDefault(Named) is { } responder)
        {
            if (DelegationProblem(responder, issuer, now) is { } problem) return (null, problem);
            signer = responder;
        }
        else return (null, $"the OCSP response is signed by neither {issuer.Subject} nor a responder certificate it includes");
        var check = algorithm.Verify(tbs.Span, signature.Span, signer);
        if (!check.IsValid) return (null, $"the OCSP response's signature does not verify with the key of {signer.Subject}");

        // 2. The nonce, when the responder echoes one (many answer from pre-signed responses and do not).
        if (nonce is not null && echoed is not null && !echoed.AsSpan().SequenceEqual(nonce))
            return (null, "the OCSP response carries another request's nonce (a replay?)");

        // 3. Our certificate's answer, and its time window.
        while (responses.HasData)
        {
            var single = responses.ReadSequence();
            var certId = single.ReadSequence();
            var hash = certId.ReadSequence();
            var hashOid = hash.ReadObjectIdentifier();
            var nameHash = certId.ReadOctetString();
            var keyHash = certId.ReadOctetString();
            var serial = certId.ReadIntegerBytes();
            if (!id.Matches(hashOid, nameHash, keyHash, serial.Span)) continue;
            var tag = single.PeekTag();
            OcspCertStatus status;
            DateTimeOffset? revokedAt = null;
            if (tag.HasSameClassAndValue(Context(0, false))) { single.ReadNull(Context(0, false)); status = OcspCertStatus.Good; }
            else if (tag.HasSameClassAndValue(Context(1)))
            {
                var revoked = single.ReadSequence(Context(1));
                revokedAt = revoked.ReadGeneralizedTime();
                status = OcspCertStatus.Revoked;
            }
            else { single.ReadNull(Context(2, false)); status = OcspCertStatus.Unknown; }
            var thisUpdate = single.ReadGeneralizedTime();
            DateTimeOffset? nextUpdate = single.HasData && single.PeekTag().HasSameClassAndValue(Context(0))
                ? single.ReadSequence(Context(0)).ReadGeneralizedTime() : null;
            if (thisUpdate > now + Skew)
                return (null, $"the OCSP response is not valid before {thisUpdate:u} (a clock problem?)");
            if (nextUpdate is { } next && next < now - Skew)
                return (null, $"the OCSP response expired at its nextUpdate {next:u}");
            if (nextUpdate is null && thisUpdate < now - MaxAgeWithoutNextUpdate)
                return (null, $"the OCSP response from {thisUpdate:u} has no nextUpdate and is too old to believe");
            return (new OcspAnswer(status, thisUpdate, nextUpdate, revokedAt), null);
        }
        return (null, "the OCSP response does not answer for this certificate");
    }

    private static byte[]? ReadNonce(AsnReader extensions)
    {
        while (extensions.HasData)
        {
            var extension = extensions.ReadSequence();
            var oid = extension.ReadObjectIdentifier();
            if (extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean)) extension.ReadBoolean();
            var value = extension.ReadOctetString();
            if (oid != OcspRequest.NonceOid) continue;
            // RFC 8954: an OCTET STRING inside; some responders (RFC 2560 era) put the raw bytes.
            var inner = new AsnReader(value, AsnEncodingRules.BER);
            return inner.PeekTag().HasSameClassAndValue(Asn1Tag.PrimitiveOctetString) && TryReadWhole(inner, out var wrapped) ? wrapped : value;
        }
        return null;
    }

    private static bool TryReadWhole(AsnReader reader, out byte[] value)
    {
        try
        {
            value = reader.ReadOctetString();
            return !reader.HasData;
        }
        catch (AsnContentException)
        {
            value = [];
            return false;
        }
    }

    /// <summary>RFC 6960 §4.2.2.2: a delegated responder is issued by the CA (signature checked), carries id-kp-OCSPSigning,
    /// and is within its validity.</summary>
    private static string? DelegationProblem(X509Certificate2 responder, X509Certificate2 issuer, DateTimeOffset now)
    {
        if (!responder.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData) || !IsSignedBy(responder, issuer))
            return $"the OCSP responder certificate {responder.Subject} was not issued by {issuer.Subject}";
        var usage = responder.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usage is null || !usage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == OcspSigning))
            return $"the OCSP responder certificate {responder.Subject} lacks id-kp-OCSPSigning in its extended key usage (RFC 6960 §4.2.2.2)";
        if (now < responder.NotBefore.ToUniversalTime() || now > responder.NotAfter.ToUniversalTime())
            return $"the OCSP responder certificate {responder.Subject} is outside its validity period";
        return null;
    }

    /// <summary>Checks the certificate's own signature with <paramref name="issuer"/>'s key (the platform verifies; we only split the DER).</summary>
    private static bool IsSignedBy(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        var outer = new AsnReader(certificate.RawDataMemory, AsnEncodingRules.DER).ReadSequence();
        var tbs = outer.ReadEncodedValue();
        var algorithm = CrlSignatureAlgorithm.Decode(outer.ReadEncodedValue());
        return outer.TryReadPrimitiveBitString(out var unused, out var signature) && unused == 0 && algorithm.Verify(tbs.Span, signature.Span, issuer).IsValid;
    }
}
