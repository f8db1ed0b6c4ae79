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
    /// <remarks>
    /// 1. Decode the headers to DER (every header and structure check, no certificate parsing).
    /// 2. Key on those bytes; a verdict-cache hit skips parsing, validation and mapping.
    /// 3. On a miss, parse the certificates, run the format's leaf check, validate, map and cache the verdict.
    /// 4. Pinning, on every request.
    /// </remarks>
    public ForwardedAuthentication Authenticate(TrustedFront front, ReceivedHeaders headers, IPAddress? client, out bool fresh)
    {
        fresh = true;
        using var decoded = front.Format.DecodePresented(headers, front.Headers, options.Limits);
        if (decoded.Status == DecodeStatus.Absent) return ForwardedAuthentication.None;
        if (decoded.Status == DecodeStatus.Refused) return RefuseHeader(front, decoded.Error!);

        var now = time.GetUtcNow();
        var trust = trustStore();
        var key = VerdictKey.Of(decoded.Chain!, decoded.Check, trust.Version, "forwarded-header");
        fresh = !_cache.TryGet(key, now, out var verdict);
        if (fresh)
        {
            var error = decoded.Chain!.Load(out var leaf, out var intermediates);
            try
            {
                error ??= decoded.Check?.Run(leaf!);
                if (error is not null) return RefuseHeader(front, error);
                verdict = ValidateAndRemember(key, leaf!, intermediates, front.Name, "forwarded-header", now);
            }
            finally
            {
                leaf?.Dispose();
                CertificateEncodings.DisposeAll(intermediates);
            }
        }
        return Pinned(verdict, front.Name, client);
    }

    /// <summary>
    /// Asks the OCSP responders (and fetches newly named CRL distribution points) for what <paramref name="front"/>
    /// forwarded, before <see cref="Authenticate"/> judges it synchronously; nothing when no CA's policy needs the
    /// network or the verdict is cached.
    /// </summary>
    public async ValueTask PrefetchAsync(TrustedFront front, ReceivedHeaders headers, CancellationToken cancellationToken)
    {
        var trust = trustStore();
        if (!NeedsPrefetch(trust)) return;
        X509Certificate2? leaf = null;
        List<X509Certificate2> intermediates = [];
        string? error;
        using (var decoded = front.Format.DecodePresented(headers, front.Headers, options.Limits))
        {
            if (decoded.Status != DecodeStatus.Decoded) return;
            if (_cache.TryGet(VerdictKey.Of(decoded.Chain!, decoded.Check, trust.Version, "forwarded-header"), time.GetUtcNow(), out _)) return;
            error = decoded.Chain!.Load(out leaf, out intermediates);
        }
        try
        {
            if (error is null && leaf is not null) await validator.PrefetchRevocationAsync(leaf, intermediates, cancellationToken);
        }
        finally
        {
            leaf?.Dispose();
            CertificateEncodings.DisposeAll(intermediates);
        }
    }

    /// <summary>As <see cref="PrefetchAsync"/>, for a certificate presented in Gatehouse's own handshake.</summary>
    public async ValueTask PrefetchHandshakeAsync(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, CancellationToken cancellationToken)
    {
        var trust = trustStore();
        if (!NeedsPrefetch(trust) || _cache.TryGet(VerdictKey.Of(leaf, intermediates, trust.Version, "handshake"), time.GetUtcNow(), out _)) return;
        await validator.PrefetchRevocationAsync(leaf, intermediates, cancellationToken);
    }

    private static bool NeedsPrefetch(TrustStore trust) => CertificateValidator.NeedsPrefetch(trust);

    private static ForwardedAuthentication RefuseHeader(TrustedFront front, string error) =>
        ForwardedAuthentication.Refuse(front.Name, ForwardedAuthentication.Rejected, $"the client certificate header from front '{front.Name}' was refused: {error}");

    /// <summary>Judges a certificate the client presented in a TLS handshake Gatehouse terminated itself.</summary>
    public ForwardedAuthentication AuthenticateHandshake(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, IPAddress? client,
        out bool fresh)
    {
        var now = time.GetUtcNow();
        var key = VerdictKey.Of(leaf, intermediates, trustStore().Version, "handshake");
        fresh = !_cache.TryGet(key, now, out var verdict);
        if (fresh) verdict = ValidateAndRemember(key, leaf, intermediates, null, "handshake", now);
        return Pinned(verdict, null, client);
    }

    private ForwardedAuthentication ValidateAndRemember(VerdictKey key, X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates,
        string? front, string source, DateTimeOffset now)
    {
        var verdict = Validate(leaf, intermediates, front, source, out var recheckBy);
        var notAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        // A verdict never outlives the revocation information it was built on (issue 16).
        var expires = Min(now + options.CacheLifetime, notAfter);
        if (recheckBy is { } until) expires = Min(expires, until);
        _cache.Set(key, verdict, expires, now);
        return verdict;
    }

    private static ForwardedAuthentication Pinned(ForwardedAuthentication verdict, string? front, IPAddress? client)
    {
        // The cache is shared by every front; a verdict names the front it came through (a new record only when it differs).
        if (verdict.Front != front) verdict = verdict with { Front = front };
        // Pinning depends on where this request came from, so it is checked on every request, after the cache.
        if (verdict.Identity?.PinnedIp is { } pinned && client is not null && pinned != (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString())
            return ForwardedAuthentication.Refuse(front, ForwardedAuthentication.Rejected,
                $"the certificate of {verdict.Identity.User} is pinned to {pinned}, and this request comes from {client}", verdict.Certificate);
        return verdict;
    }

    private ForwardedAuthentication Validate(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, string? front, string source,
        out DateTimeOffset? recheckBy)
    {
        var result = validator.Validate(leaf, intermediates);
        recheckBy = result.RecheckBy;
        var facts = new CertificateFacts(leaf.Subject, leaf.Issuer, SerialNumbers.Of(leaf), Convert.ToHexString(SHA256.HashData(leaf.RawDataMemory.Span)),
            new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero), result.IssuedByGatehouse);
        if (!result.IsValid)
            return ForwardedAuthentication.Refuse(front, result.Refusal!.Value.ToString(), result.Message, facts);
        var mapping = mapper.Map(leaf, result.IssuedByGatehouse, source);
        return mapping.Identity is null
            ? ForwardedAuthentication.Refuse(front, ForwardedAuthentication.Rejected, mapping.Error!, facts)
            : new ForwardedAuthentication(ForwardedStatus.Authenticated, mapping.Identity, facts, front, null, $"{mapping.Identity.User} ({facts.Subject})")
            {
                Warning = result.Warning,
            };
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
