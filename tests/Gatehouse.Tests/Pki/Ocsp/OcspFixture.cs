using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Ocsp;

/// <summary>
/// A company PKI whose issuing CA runs a real OCSP responder (<c>openssl ocsp -index … -port …</c>) on loopback, signed by a
/// delegated responder certificate (id-kp-OCSPSigning). Leaves name the responder in their AIA. A second responder on
/// the same index signs with a key the CA never certified. Both are stopped by PID.
/// </summary>
public sealed class OcspFixture : IAsyncLifetime
{
    internal ExternalPki Pki { get; } = new();
    internal ExternalPki.Issued Issuing { get; private set; } = null!;
    internal ExternalPki.Issued Good { get; private set; } = null!;
    internal ExternalPki.Issued Revoked { get; private set; } = null!;
    internal ExternalPki.Issued NotInIndex { get; private set; } = null!;
    internal string Bundle { get; private set; } = "";
    internal int Port { get; } = Peer.FreePort();
    internal int RoguePort { get; } = Peer.FreePort();
    internal int CaSignedPort { get; } = Peer.FreePort();
    private readonly List<BackgroundProcess> _responders = [];

    internal Uri Responder => new($"http://127.0.0.1:{Port}");

    public async Task InitializeAsync()
    {
        var root = await Pki.RootAsync("Ocsp Root");
        Issuing = await Pki.IssueAsync(root, "Ocsp Issuing", ExternalPki.CaExtensions, days: 1000);
        var aia = $"\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:{Port}";
        Good = await Pki.IssueAsync(Issuing, "ocsp-good", ExternalPki.ClientExtensions + aia);
        Revoked = await Pki.IssueAsync(Issuing, "ocsp-revoked", ExternalPki.ClientExtensions + aia);
        NotInIndex = await Pki.IssueAsync(Issuing, "ocsp-stranger", ExternalPki.ClientExtensions + aia);
        var signer = await Pki.IssueAsync(Issuing, "ocsp-responder",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid");
        var rogueRoot = await Pki.RootAsync("Rogue Root");
        var rogue = await Pki.IssueAsync(rogueRoot, "ocsp-rogue",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning");

        // The index, kept by `openssl ca` itself: one valid entry, one revoked.
        var config = Pki.File("ocsp-ca.cnf");
        await File.WriteAllTextAsync(Pki.File("index.txt"), "");
        await File.WriteAllTextAsync(config, $"[ca]\ndefault_ca = dflt\n[dflt]\ndatabase = {Pki.File("index.txt")}\ndefault_md = sha256\n");
        (await Peer.RunAsync("openssl", "ca", "-config", config, "-cert", Issuing.CertPath, "-keyfile", Issuing.KeyPath, "-valid", Good.CertPath))
            .EnsureSuccess("openssl ca -valid");
        (await Peer.RunAsync("openssl", "ca", "-config", config, "-cert", Issuing.CertPath, "-keyfile", Issuing.KeyPath, "-revoke", Revoked.CertPath,
            "-crl_reason", "keyCompromise")).EnsureSuccess("openssl ca -revoke");

        await StartResponderAsync(Port, signer);
        await StartResponderAsync(RoguePort, rogue);
        await StartResponderAsync(CaSignedPort, Issuing);
        Bundle = Pki.File("ocsp-bundle.pem");
        await File.WriteAllTextAsync(Bundle, File.ReadAllText(root.CertPath) + File.ReadAllText(Issuing.CertPath));
    }

    private async Task StartResponderAsync(int port, ExternalPki.Issued signer)
    {
        // openssl 3.0's responder takes a port number only (it cannot be told to bind loopback alone); it is asked on 127.0.0.1.
        var responder = BackgroundProcess.Start("openssl", ["ocsp", "-index", Pki.File("index.txt"), "-port", $"{port}",
            "-rsigner", signer.CertPath, "-rkey", signer.KeyPath, "-CA", Issuing.CertPath, "-nmin", "60", "-ignore_err"]);
        _responders.Add(responder);
        // Ready when it says so: a probe connection closed without a request would hang this single-threaded responder.
        await responder.WaitForOutputAsync("waiting for OCSP client connections", TimeSpan.FromSeconds(20));
    }

    public async Task DisposeAsync()
    {
        foreach (var responder in _responders) await responder.DisposeAsync();
        Pki.Dispose();
    }
}
