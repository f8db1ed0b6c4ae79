using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;

namespace Gatehouse.ForwardedCerts;

/// <summary>
/// Turns the client certificate a trusted front forwarded (or the one presented in our own handshake) into an
/// identity: decode in the front's format, re-verify with the one validator (in passthrough the balancer verified
/// nothing), map to an identity, and remember the verdict for a while.
/// </summary>
internal sealed class ForwardedCertificateAuthenticator(
    ForwardedCertificateOptions options,
    CertificateValidator validator,
    Func<TrustStore> trustStore,
    IdentityMapper mapper,
    TimeProvider time)
{
    private readonly VerdictCache _cache = new(options.CacheSize);

    public ForwardedCertificateOptions Options => options;

    /// <summary>The front a request came through: its peer is in the front's networks and it carries the front's secret.</summary>
    public TrustedFront? FrontFor(IPAddress peer, ReceivedHeaders headers)
    {
        if (peer.IsIPv4MappedToIPv6) peer = peer.MapToIPv4();
        foreach (var front in options.Fronts)
            if (front.Contains(peer) && front.CarriesSecret(headers))
                return front;
        return null;
    }

    /// <summary>Judges what <paramref name="front"/> forwarded. <paramref name="fresh"/> is true when this call did the
    /// judging (not the cache): callers audit fresh verdicts only.</summary>
    public ForwardedAuthentication Authenticate(TrustedFront front, ReceivedHeaders headers, IPAddress? client, out bool fresh)
    {
        fresh = true;
        var decoded = front.Format.Decode(headers, front.Headers, options.Limits);
        try
        {
            return decoded.Status switch
            {
                DecodeStatus.Absent => ForwardedAuthentication.None,
                DecodeStatus.Refused => ForwardedAuthentication.Refuse(front.Name, ForwardedAuthentication.Rejected,
                    $"the client certificate header from front '{front.Name}' was refused: {decoded.Error}"),
                _ => Judge(decoded.Leaf!, decoded.Intermediates, front.Name, "forwarded-header", client, out fresh),
            };
        }
        finally
        {
            decoded.Leaf?.Dispose();
            foreach (var certificate in decoded.Intermediates) certificate.Dispose();
        }
    }

    /// <summary>Judges a certificate the client presented in a TLS handshake Gatehouse terminated itself.</summary>
    public ForwardedAuthentication AuthenticateHandshake(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, IPAddress? client,
        out bool fresh) =>
        Judge(leaf, intermediates, null, "handshake", client, out fresh);

    private ForwardedAuthentication Judge(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, string? front, string source,
        IPAddress? client, out bool fresh)
    {
        var now = time.GetUtcNow();
        var trust = trustStore();
        var key = CacheKey(leaf, intermediates, trust.Version, source);
        fresh = !_cache.TryGet(key, now, out var verdict);
        if (fresh)
        {
            verdict = Validate(leaf, intermediates, front, source);
            var notAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            _cache.Set(key, verdict, Min(now + options.CacheLifetime, notAfter), now);
        }
        verdict = verdict with { Front = front };
        // Pinning depends on where this request came from, so it is checked on every request, after the cache.
        if (verdict.Identity?.PinnedIp is { } pinned && client is not null && pinned != (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString())
            return ForwardedAuthentication.Refuse(front, ForwardedAuthentication.Rejected,
                $"the certificate of {verdict.Identity.User} is pinned to {pinned}, and this request comes from {client}", verdict.Certificate);
        return verdict;
    }

    private ForwardedAuthentication Validate(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, string? front, string source)
    {
        var result = validator.Validate(leaf, intermediates);
        var facts = new CertificateFacts(leaf.Subject, leaf.Issuer, SerialNumbers.Of(leaf), Convert.ToHexString(SHA256.HashData(leaf.RawDataMemory.Span)),
            new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero), result.IssuedByGatehouse);
        if (!result.IsValid)
            return ForwardedAuthentication.Refuse(front, result.Refusal!.Value.ToString(), result.Message, facts);
        var mapping = mapper.Map(leaf, result.IssuedByGatehouse, source);
        return mapping.Identity is null
            ? ForwardedAuthentication.Refuse(front, ForwardedAuthentication.Rejected, mapping.Error!, facts)
            : new ForwardedAuthentication(ForwardedStatus.Authenticated, mapping.Identity, facts, front, null, $"{mapping.Identity.User} ({facts.Subject})");
    }

    private static string CacheKey(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, long trustVersion, string source)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(leaf.RawDataMemory.Span); // RawDataMemory: RawData copies on every read
        foreach (var certificate in intermediates) hash.AppendData(certificate.RawDataMemory.Span);
        return $"{Convert.ToHexString(hash.GetHashAndReset())}:{trustVersion}:{source}";
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
