using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Gatehouse.EndToEnd.Faults;

/// <summary>
/// Logins (POST /v1/login) in a few loops against one or more proxies until stopped: the load a fault lands in. A login
/// the proxy answered 200 is <em>acknowledged</em>: its certificate's serial is kept, since an acknowledged login must be
/// in the audit trail whatever happens next. Refusals and failed connections are counted and the loop goes on (a short
/// pause after a failure keeps a dead proxy from being hammered).
/// </summary>
internal sealed class LoginLoad : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _acknowledged = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http;
    private readonly Task _loops;
    private int _failures;

    private LoginLoad(IReadOnlyList<string> addresses, string hostCaFile, string user, string password, int loops)
    {
        var hostCa = X509CertificateLoader.LoadCertificateFromFile(hostCaFile);
        _http = new HttpClient(new SocketsHttpHandler
        {
            // A new connection for every login: after a restart no pooled connection to the dead process is reused.
            PooledConnectionLifetime = TimeSpan.Zero,
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(hostCa);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return presented is X509Certificate2 leaf && chain.Build(leaf);
            } },
        }) { Timeout = TimeSpan.FromSeconds(30) };
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = new { user, password, public_key = key.ExportSubjectPublicKeyInfoPem() };
        _loops = Task.WhenAll(Enumerable.Range(0, loops).Select(i => Task.Run(() => LoopAsync(addresses[i % addresses.Count], body))));
    }

    /// <summary>Serials (hex, as X.509 prints them) of the logins answered 200 so far.</summary>
    public IReadOnlyCollection<string> Acknowledged => [.. _acknowledged];

    public int Failures => Volatile.Read(ref _failures);

    public static LoginLoad Start(string address, string hostCaFile, string user, string password, int loops = 2) =>
        new([address], hostCaFile, user, password, loops);

    public static LoginLoad Start(IReadOnlyList<string> addresses, string hostCaFile, string user, string password, int loops = 2) =>
        new(addresses, hostCaFile, user, password, loops);

    /// <summary>Waits until at least <paramref name="count"/> logins have been acknowledged, or fails after the deadline.</summary>
    public async Task WaitForAcknowledgedAsync(int count, TimeSpan deadline, Func<string>? diagnostics = null)
    {
        var until = DateTime.UtcNow + deadline;
        while (_acknowledged.Count < count)
        {
            if (DateTime.UtcNow > until)
                throw new Xunit.Sdk.XunitException($"only {_acknowledged.Count} of {count} logins acknowledged within {deadline} ({Failures} failures). {diagnostics?.Invoke()}");
            await Task.Delay(50);
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loops;
    }

    private async Task LoopAsync(string address, object body)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var response = await _http.PostAsJsonAsync($"https://{address}/v1/login", body, _stop.Token);
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(_stop.Token));
                    using var certificate = X509Certificate2.CreateFromPem(json.RootElement.GetProperty("certificate").GetString());
                    _acknowledged.Enqueue(certificate.SerialNumber);
                    continue;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                // A killed or restarting proxy: counted below, and the loop goes on.
            }
            Interlocked.Increment(ref _failures);
            try
            {
                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The serials of <c>user.login</c> events in an audit listing, normalised as <see cref="Normalise"/> does.</summary>
    public static HashSet<string> AuditedSerials(IEnumerable<JsonElement> events) =>
        [.. events.Select(e => Normalise(e.GetProperty("certificate_serial").GetString() ?? ""))];

    /// <summary>Hex without leading zeros, upper case: DER integers may carry a leading 00 octet in one listing and not another.</summary>
    public static string Normalise(string serial) => serial.TrimStart('0').ToUpperInvariant();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _http.Dispose();
        _stop.Dispose();
    }
}
