using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;

namespace Gatehouse.Benchmarks;

/// <summary>
/// What the runtime alone charges to turn one DER certificate into an X509Certificate2 and dispose it (OpenSSL on
/// Linux). Every decoder pays this once per certificate it returns, on every request, cache or not; compare it with
/// ForwardedCertificateBenchmarks.Decode to see how much of a decode is the decoder itself.
/// </summary>
[MemoryDiagnoser]
public class CertificateParsingBaseline
{
    private CompanyPki _pki = null!;
    private byte[] _leaf = [];

    [GlobalSetup]
    public void Setup()
    {
        _pki = new CompanyPki(DateTimeOffset.UtcNow);
        _leaf = _pki.Leaf.RawData;
    }

    [GlobalCleanup]
    public void Cleanup() => _pki.Dispose();

    [Benchmark]
    public int LoadCertificateAndDispose()
    {
        using var certificate = X509CertificateLoader.LoadCertificate(_leaf);
        return certificate.RawDataMemory.Length;
    }
}
