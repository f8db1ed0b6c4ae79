using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Pki.Revocation;

/// <summary>Limits on fetching a CRL from a URL.</summary>
/// <param name="Timeout">For the whole fetch: connect, headers and body.</param>
/// <param name="MaxBytes">A larger body is refused before it is read in full (a CRL of a big CA is a few MiB).</param>
internal sealed record CrlFetchOptions(TimeSpan Timeout, long MaxBytes)
{
    public static CrlFetchOptions Default { get; } = new(TimeSpan.FromSeconds(15), 32L * 1024 * 1024);
}

/// <summary>What one fetch did; <see cref="Error"/> is a sentence naming the URL (without user information).</summary>
internal sealed record CrlFetchResult(bool Changed, string? Error)
{
    public bool IsOk => Error is null;
}

/// <summary>
/// Fetches a CRL over http(s) into the <see cref="CrlCache"/> (issue 16): a conditional GET (ETag, Last-Modified), a
/// timeout and a size cap, then the CRL is parsed and its signature verified against the CA before it replaces the
/// cached copy atomically; a CRL older than the cached one (lower CRL number) is refused. A failure leaves the
/// cached copy alone and writes why into the error file, which the trust view reports. Never throws for what the
/// network or the server does.
/// </summary>
internal sealed class CrlFetcher(HttpClient http, CrlFetchOptions options)
{
    public async Task<CrlFetchResult> FetchAsync(Uri url, string cacheDirectory, IReadOnlyList<X509Certificate2> issuers, CancellationToken cancellationToken)
    {
        var result = await TryFetchAsync(url, cacheDirectory, issuers, cancellationToken);
        var errorPath = CrlCache.ErrorPath(cacheDirectory, url);
        try
        {
            if (result.Error is { } error)
                await CrlCache.WriteAtomicallyAsync(errorPath, Encoding.UTF8.GetBytes(error), cancellationToken);
            else if (File.Exists(errorPath))
                File.Delete(errorPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new CrlFetchResult(false, $"{CrlCache.Display(url)}: cannot write the CRL cache in {cacheDirectory} ({e.Message.TrimEnd('.')})");
        }
        return result;
    }

    private async Task<CrlFetchResult> TryFetchAsync(Uri url, string cacheDirectory, IReadOnlyList<X509Certificate2> issuers, CancellationToken cancellationToken)
    {
        var shown = CrlCache.Display(url);
        var crlPath = CrlCache.CrlPath(cacheDirectory, url);
        var validatorsPath = CrlCache.ValidatorsPath(cacheDirectory, url);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/pkix-crl, application/x-pkcs7-crl, */*");
            if (File.Exists(crlPath)) AddValidators(request, validatorsPath);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode == HttpStatusCode.NotModified && File.Exists(crlPath))
                return new CrlFetchResult(false, null);
            if (!response.IsSuccessStatusCode)
                return Failed(shown, $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
            var body = await BoundedBody.ReadAsync(response.Content, options.MaxBytes, timeout.Token);
            if (body is null)
                return Failed(shown, $"the CRL is more than the {options.MaxBytes} bytes accepted");

            var parsed = CertificateRevocationList.Parse(body);
            if (parsed.Crl is not { } crl)
                return Failed(shown, $"what the server sent is not a usable CRL: {parsed.Error?.TrimEnd('.')}");
            var issuer = issuers.FirstOrDefault(i => crl.IsIssuedBy(i) && crl.VerifySignature(i).IsValid);
            if (issuer is null)
                return Failed(shown, issuers.FirstOrDefault(crl.IsIssuedBy) is { } named
                    ? $"the CRL was rejected: {crl.VerifySignature(named).Error}"
                    : $"the CRL's issuer {crl.Issuer.Name} is not the CA this URL is configured for");
            var cached = Cached(crlPath);
            if (cached?.Crl is { } older && crl.CrlNumber < older.CrlNumber)
                return Failed(shown, $"the server sent CRL number {crl.CrlNumber}, older than the cached number {older.CrlNumber}");
            if (cached?.Bytes.AsSpan().SequenceEqual(body) == true)
                return new CrlFetchResult(false, null); // a server without conditional GET: same bytes, nothing to reload

            await CrlCache.WriteAtomicallyAsync(crlPath, body, cancellationToken);
            await CrlCache.WriteAtomicallyAsync(validatorsPath, Encoding.UTF8.GetBytes(
                $"{response.Headers.ETag}\n{response.Content.Headers.LastModified?.ToString("R")}\n"), cancellationToken);
            return new CrlFetchResult(true, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(shown, $"no answer within {options.Timeout.TotalSeconds:0}s");
        }
        catch (HttpRequestException e)
        {
            return Failed(shown, $"the fetch failed ({e.Message.TrimEnd('.')})");
        }
        catch (IOException e)
        {
            return Failed(shown, $"the fetch failed ({e.Message.TrimEnd('.')})");
        }
    }

    private static CrlFetchResult Failed(string url, string why) => new(false, $"{url}: {why}");

    private static void AddValidators(HttpRequestMessage request, string validatorsPath)
    {
        string[] lines;
        try { lines = File.Exists(validatorsPath) ? File.ReadAllLines(validatorsPath) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        if (lines.Length > 0 && EntityTagHeaderValue.TryParse(lines[0], out var etag))
            request.Headers.IfNoneMatch.Add(etag);
        if (lines.Length > 1 && DateTimeOffset.TryParse(lines[1], System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var modified))
            request.Headers.IfModifiedSince = modified;
    }

    private static (byte[] Bytes, CertificateRevocationList? Crl)? Cached(string crlPath)
    {
        try
        {
            if (!File.Exists(crlPath)) return null;
            var bytes = File.ReadAllBytes(crlPath);
            return (bytes, CertificateRevocationList.Parse(bytes).Crl);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
