using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Revocation;

namespace Gatehouse.Pki.Ocsp;

/// <summary>Limits of the OCSP client.</summary>
/// <param name="Timeout">For one request, connect to body.</param>
/// <param name="MaxResponseBytes">A larger response is refused (a one-certificate answer is a few KiB).</param>
/// <param name="ErrorCacheTime">How long a failed check is remembered before the responder is asked again.</param>
/// <param name="DefaultCacheTime">How long an answer without nextUpdate is kept.</param>
internal sealed record OcspOptions(TimeSpan Timeout, int MaxResponseBytes, TimeSpan ErrorCacheTime, TimeSpan DefaultCacheTime, int Capacity)
{
    public static OcspOptions Default { get; } = new(TimeSpan.FromSeconds(5), 64 * 1024, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), 10_000);
}

/// <summary>
/// Asks OCSP responders about company certificates (RFC 6960) and remembers the verified answers by (issuer key hash,
/// serial) until their nextUpdate — errors for a short while, so a responder that is down is not asked by every
/// request. Checks are asked for ahead of validation (<see cref="EnsureAsync"/>, async, off the handshake's
/// synchronous path) and read during it (<see cref="Cached"/>). Requests go as GET when they fit in 255 characters
/// (RFC 5019 §5, cache-friendly), else as POST; each carries a fresh nonce.
/// </summary>
internal sealed class OcspService(HttpClient http, TimeProvider time, OcspOptions options)
{
    private readonly ConcurrentDictionary<string, OcspCheck> _cache = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<OcspCheck>>> _inFlight = new();

    /// <summary>Send every request as POST (tests both ways; some responders take only one).</summary>
    public bool AlwaysPost { get; init; }

    public int Count => _cache.Count;

    /// <summary>The remembered check for this certificate, if it is still good to use.</summary>
    public OcspCheck? Cached(X509Certificate2 certificate, X509Certificate2 issuer) =>
        _cache.TryGetValue(OcspCertId.For(certificate, issuer).CacheKey, out var check) && check.Until > time.GetUtcNow() ? check : null;

    /// <summary>Makes sure a current check of <paramref name="certificate"/> is remembered, asking <paramref name="responder"/>
    /// if needed; concurrent callers for one certificate share one request.</summary>
    public async ValueTask<OcspCheck> EnsureAsync(X509Certificate2 certificate, X509Certificate2 issuer, Uri responder, CancellationToken cancellationToken)
    {
        if (Cached(certificate, issuer) is { } cached) return cached;
        var id = OcspCertId.For(certificate, issuer);
        var key = id.CacheKey;
        var lazy = _inFlight.GetOrAdd(key, _ => new Lazy<Task<OcspCheck>>(() => AskAsync(id, issuer, responder)));
        try
        {
            var check = await lazy.Value.WaitAsync(cancellationToken);
            Remember(key, check);
            return check;
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<OcspCheck>>>(key, lazy));
        }
    }

    private void Remember(string key, OcspCheck check)
    {
        if (_cache.Count >= options.Capacity)
        {
            var now = time.GetUtcNow();
            foreach (var (k, v) in _cache)
                if (v.Until <= now) _cache.TryRemove(k, out _);
            if (_cache.Count >= options.Capacity) _cache.Clear();
        }
        _cache[key] = check;
    }

    private async Task<OcspCheck> AskAsync(OcspCertId id, X509Certificate2 issuer, Uri responder)
    {
        var shown = CrlCache.Display(responder);
        var nonce = RandomNumberGenerator.GetBytes(16);
        var request = OcspRequest.Encode(id, nonce);
        using var timeout = new CancellationTokenSource(options.Timeout);
        try
        {
            using var message = Message(responder, request);
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
                return Failed($"the OCSP responder {shown} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            var body = await BoundedBody.ReadAsync(response.Content, options.MaxResponseBytes, timeout.Token);
            if (body is null)
                return Failed($"the OCSP responder {shown} sent more than {options.MaxResponseBytes} bytes");
            var now = time.GetUtcNow();
            var (answer, error) = OcspResponseDecoder.Decode(body, id, issuer, nonce, now);
            if (answer is null) return Failed($"{shown}: {error}");
            var until = answer.NextUpdate ?? now + options.DefaultCacheTime;
            return new OcspCheck(answer, null, until);
        }
        catch (OperationCanceledException)
        {
            return Failed($"the OCSP responder {shown} did not answer within {options.Timeout.TotalSeconds:0}s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return Failed($"the OCSP responder {shown} could not be reached ({e.Message.TrimEnd('.')})");
        }
    }

    private HttpRequestMessage Message(Uri responder, byte[] request)
    {
        var encoded = Uri.EscapeDataString(Convert.ToBase64String(request));
        if (!AlwaysPost && encoded.Length <= 255)
        {
            var baseUrl = responder.AbsoluteUri.EndsWith('/') ? responder.AbsoluteUri : responder.AbsoluteUri + "/";
            return new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl + encoded));
        }
        var post = new HttpRequestMessage(HttpMethod.Post, responder) { Content = new ByteArrayContent(request) };
        post.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        return post;
    }

    private OcspCheck Failed(string error) => new(null, error, time.GetUtcNow() + options.ErrorCacheTime);
}
