using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Gatehouse.Cluster;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Identity;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;

namespace Gatehouse.Benchmarks;

/// <summary>
/// The forwarded-certificate path per balancer format: decoding alone, a first request (decode + chain validation +
/// identity mapping, nothing cached) and the steady state (decode + verdict-cache hit). Formats that carry a chain
/// forward a company leaf with its issuing CA and root (3 certificates); the others forward a Gatehouse-issued user
/// certificate alone. Both PKIs are trusted by a real cluster (SQLite in a temp directory).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class ForwardedCertificateBenchmarks
{
    private static readonly IPAddress Client = IPAddress.Parse("198.51.100.7");

    private string _dataDirectory = null!;
    private ClusterState _cluster = null!;
    private CompanyPki _company = null!;
    private X509Certificate2 _gatehouseLeaf = null!;
    private ForwardedCertificateFormat _format = null!;
    private TrustedFront _front = null!;
    private ReceivedHeaders _headers = null!;
    private ForwardedCertificateOptions _options = null!;
    private IdentityMapper _mapper = null!;
    private ForwardedCertificateAuthenticator _warm = null!;

    /// <summary>Every format id Gatehouse knows (ForwardedCertificateFormats.ById).</summary>
    public static IEnumerable<string> FormatIds => ForwardedCertificateFormats.ById.Keys.Order(StringComparer.Ordinal);

    [ParamsSource(nameof(FormatIds))]
    public string Format { get; set; } = "";

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _dataDirectory = Directory.CreateTempSubdirectory("gatehouse-bench-").FullName;
        _company = new CompanyPki(DateTimeOffset.UtcNow);
        var bundle = Path.Combine(_dataDirectory, "corp-ca.pem");
        await File.WriteAllTextAsync(bundle, BalancerEncode.Pem(_company.Issuing, _company.Root));

        // A cluster the way the proxy opens one: SQLite store, master key and real CAs made on first open.
        var options = new ClusterOptions("bench-cluster", Path.Combine(_dataDirectory, "data"), KeyAlgorithm.EcdsaP256,
            new TrustOptions([bundle], []), new ValidationOptions(), MasterKey: null);
        _cluster = await ClusterState.OpenAsync(options, TimeProvider.System, create: true, CancellationToken.None);
        if (_cluster.Trust.Errors.Count > 0) throw new InvalidOperationException(string.Join("; ", _cluster.Trust.Errors));

        using var userKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _gatehouseLeaf = await _cluster.Issuer.IssueUserAsync(new Identity.Identity { User = "alice", Cluster = "bench-cluster", Roles = ["dev"] },
            new PublicKey(userKey), TimeSpan.FromHours(12), CancellationToken.None);

        _format = ForwardedCertificateFormats.ById[Format];
        var chained = BalancerEncode.CarriesChain(Format);
        var leaf = chained ? _company.Leaf : _gatehouseLeaf;
        _headers = ReceivedHeaders.Of(BalancerEncode.HeadersFor(Format, leaf, chained ? _company.Chain : [leaf]));
        _front = new TrustedFront("bench", _format, [IPNetwork.Parse("10.0.0.0/8")], _format.DefaultHeaders, SharedSecret: null);
        _options = new ForwardedCertificateOptions([_front], new DecodeLimits(MaxChainDepth: options.Validation.MaxChainDepth));
        _mapper = new IdentityMapper([new IdentityMappingRule(CompanyPki.IssuingName, "*@corp.example", null, null, null, "{email.local}", ["dev"])],
            _cluster.Authorities.ClusterName);
        _warm = NewAuthenticator();

        // Refuse to measure the wrong thing: each path must end in the outcome it is named after.
        var decoded = _format.Decode(_headers, _front.Headers, _options.Limits);
        if (decoded.Status != DecodeStatus.Decoded || decoded.Intermediates.Count != (chained ? 2 : 0))
            throw new InvalidOperationException($"{Format}: decoded to {decoded.Status} with {decoded.Intermediates.Count} intermediates ({decoded.Error})");
        Dispose(decoded);
        var first = _warm.Authenticate(_front, _headers, Client, out var fresh);
        if (first.Status != ForwardedStatus.Authenticated || !fresh)
            throw new InvalidOperationException($"{Format}: the first request was {first.Status} (fresh: {fresh}): {first.Message}");
        _warm.Authenticate(_front, _headers, Client, out fresh);
        if (fresh) throw new InvalidOperationException($"{Format}: the second request missed the verdict cache");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _gatehouseLeaf.Dispose();
        _company.Dispose();
        try { Directory.Delete(_dataDirectory, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>The format's decoder alone: header checks, unescaping, certificate parsing (and disposing them).</summary>
    /// <remarks>The benchmarks return object: Gatehouse's result types are internal, and a public method may not expose them.</remarks>
    [Benchmark]
    public object Decode()
    {
        var decoded = _format.Decode(_headers, _front.Headers, _options.Limits);
        Dispose(decoded);
        return decoded;
    }

    /// <summary>A first request: a new authenticator (empty verdict cache), so decode + chain build + policy +
    /// revocation lookup + identity mapping.</summary>
    [Benchmark]
    public object DecodeAndValidateCold() => NewAuthenticator().Authenticate(_front, _headers, Client, out _);

    /// <summary>The steady state: one long-lived authenticator, so decode + cache key + cache hit.</summary>
    [Benchmark]
    public object DecodeAndValidateCached() => _warm.Authenticate(_front, _headers, Client, out _);

    private ForwardedCertificateAuthenticator NewAuthenticator() =>
        new(_options, _cluster.Validator, () => _cluster.Trust, _mapper, _cluster.Time);

    private static void Dispose(DecodeResult decoded)
    {
        decoded.Leaf?.Dispose();
        foreach (var certificate in decoded.Intermediates) certificate.Dispose();
    }
}
