using System.Security.Cryptography;
using Gatehouse.Edge.Configuration;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Conformance;

[CollectionDefinition(Name)]
public sealed class ConformanceCollection : ICollectionFixture<ConformanceEdge>
{
    public const string Name = "Conformance";
}

/// <summary>
/// One edge with a listener per behaviour under test — off, passthrough, verify, verify with expired certificates
/// allowed, verify with every mTLS header renamed, and verify advertising the trust store's CA names — in front of one echo target, and a company PKI (root → issuing
/// CA) whose clients are the cases: alice (good, her chain's base64 holds '+' and '='), an expired, a revoked (the
/// issuing CA's CRL is in the trust store), an untrusted (another root), an X.509v1, an RSA-1024 and a SHA-1 one.
/// </summary>
public sealed class ConformanceEdge : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private EchoTarget? _target;
    private EdgeUnderTest? _edge;

    public int OffPort { get; } = Peer.FreePort();
    public int PassthroughPort { get; } = Peer.FreePort();
    public int VerifyPort { get; } = Peer.FreePort();
    public int ExpiryIgnoredPort { get; } = Peer.FreePort();
    public int RenamedPort { get; } = Peer.FreePort();
    public int AdvertisingPort { get; } = Peer.FreePort();

    internal EdgeUnderTest Edge => _edge!;
    internal TestCa Root { get; private set; } = null!;
    internal TestCa Issuing { get; private set; } = null!;
    internal ClientCertificate Alice { get; private set; } = null!;
    /// <summary>alice's certificate followed by the issuing CA's: what she presents.</summary>
    internal string AliceChain { get; private set; } = "";
    internal ClientCertificate Expired { get; private set; } = null!;
    internal ClientCertificate Revoked { get; private set; } = null!;
    internal ClientCertificate Untrusted { get; private set; } = null!;
    internal ClientCertificate Version1 { get; private set; } = null!;
    internal ClientCertificate Rsa1024 { get; private set; } = null!;
    internal ClientCertificate Sha1 { get; private set; } = null!;

    internal static readonly MtlsHeaderNames Renamed = new("X-Client-Chain", "X-Client-Serial", "X-Client-Issuer", "X-Client-Subject", "X-Client-Validity",
        "X-Client-Leaf");

    public async Task InitializeAsync()
    {
        var dir = _dir.Path;
        Root = TestCa.Root(dir, "CN=Corp Root CA,O=Corp Example");
        Issuing = Root.Intermediate("CN=Corp Issuing CA,O=Corp Example");
        // The golden case needs '+' and '=' in the base64 of the chain: keys are random, so make alice until it holds both.
        for (var i = 0; ; i++)
        {
            Alice = Issuing.Client("CN=alice, OU=\"Dev, Ops + Sec\", O=Corp Example");
            var pem = File.ReadAllText(Alice.CertificateFile) + File.ReadAllText(Issuing.File);
            if (pem.Contains('+') && pem.Contains('=')) break;
            if (i > 50) throw new InvalidOperationException("no chain with '+' and '=' in 50 tries");
        }
        AliceChain = Alice.WithChain(Issuing);
        var now = DateTimeOffset.UtcNow;
        Expired = Issuing.Client("CN=expired,O=Corp Example", now.AddDays(-10), now.AddDays(-1));
        Revoked = Issuing.Client("CN=revoked,O=Corp Example");
        Untrusted = TestCa.Root(dir, "CN=Stranger CA").Client("CN=stranger");
        Version1 = Issuing.Version1Client("CN=version one,O=Corp Example");
        Rsa1024 = Issuing.Client("CN=rsa1024,O=Corp Example", rsaBits: 1024);
        Sha1 = Issuing.Client("CN=sha1,O=Corp Example", hash: HashAlgorithmName.SHA1);

        var bundle = Path.Combine(dir, "bundle.pem");
        await File.WriteAllTextAsync(bundle, "# Corp root and issuing CA\n" + await File.ReadAllTextAsync(Root.File) + await File.ReadAllTextAsync(Issuing.File));
        var trust = new TrustStoreOptions(bundle, [Issuing.Crl(Revoked.Certificate)]);
        _target = await EchoTarget.StartAsync("echo-1");
        _edge = await EdgeUnderTest.StartAsync(dir, server => new EdgeOptions("conformance",
        [
            EdgeUnderTest.Listener(OffPort, server, MutualAuthenticationOptions.Off),
            EdgeUnderTest.Listener(PassthroughPort, server, new MutualAuthenticationOptions(MtlsMode.Passthrough)),
            EdgeUnderTest.Listener(VerifyPort, server, new MutualAuthenticationOptions(MtlsMode.Verify, trust)),
            EdgeUnderTest.Listener(ExpiryIgnoredPort, server, new MutualAuthenticationOptions(MtlsMode.Verify, trust, IgnoreClientCertificateExpiry: true)),
            EdgeUnderTest.Listener(RenamedPort, server, new MutualAuthenticationOptions(MtlsMode.Verify, trust), Renamed),
            EdgeUnderTest.Listener(AdvertisingPort, server, new MutualAuthenticationOptions(MtlsMode.Verify, trust, AdvertiseTrustStoreCaNames: true)),
        ], [EdgeUnderTest.Group("echo", _target)]));
    }

    public async Task DisposeAsync()
    {
        if (_edge is not null) await _edge.DisposeAsync();
        if (_target is not null) await _target.DisposeAsync();
        _dir.Dispose();
    }
}
