using System.Globalization;
using System.Text.Json;
using Gatehouse.EndToEnd.Balancers;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>
/// Issue 16 through the running proxy: a company CA whose CRL comes from a URL (a real nginx) and whose OCSP responder
/// is openssl's refuses its revoked certificates, reports its sources in /metrics and /healthz, and — restarted while the
/// CRL server is gone — still refuses them from the copy on disk, logging the failing URL.
/// </summary>
public sealed class CompanyRevocationTests : IAsyncLifetime
{
    private const string IssuingDn = "CN=Corp Issuing CA, O=Corp Example";
    private readonly TempDirectory _pki = new();
    private readonly int _crlPort = Peer.FreePort();
    private readonly int _ocspPort = Peer.FreePort();
    private NginxPeer? _nginx;
    private BackgroundProcess? _ocsp;
    private ProxyUnderTest _proxy = null!;
    private (string Certificate, string Key) _dana, _eve, _mallory;
    private string _hostCa = "";

    public async Task InitializeAsync()
    {
        var root = await OpensslCa.RootAsync(_pki.Path, "corp-root", "/O=Corp Example/CN=Corp Root CA");
        var issuing = await root.IntermediateAsync("corp-issuing", "/O=Corp Example/CN=Corp Issuing CA");
        _dana = await issuing.ClientAsync("dana", "/O=Corp Example/CN=Dana", email: "dana@corp.example");
        _eve = await issuing.ClientAsync("eve", "/O=Corp Example/CN=Eve", email: "eve@corp.example");
        _mallory = await issuing.ClientAsync("mallory", "/O=Corp Example/CN=Mallory", email: "mallory@corp.example");
        await File.WriteAllTextAsync(_pki.File("bundle.pem"), File.ReadAllText(root.Certificate) + File.ReadAllText(issuing.Certificate));

        // The CRL, made and signed by `openssl ca` with eve revoked.
        var config = _pki.File("ca.cnf");
        await File.WriteAllTextAsync(_pki.File("index.txt"), "");
        await File.WriteAllTextAsync(_pki.File("crlnumber"), "01\n");
        await File.WriteAllTextAsync(config, $"[ca]\ndefault_ca = d\n[d]\ndatabase = {_pki.File("index.txt")}\ncrlnumber = {_pki.File("crlnumber")}\ndefault_md = sha256\ndefault_crl_days = 7\n");
        string[] signer = ["-config", config, "-cert", issuing.Certificate, "-keyfile", issuing.Key];
        (await Peer.RunAsync("openssl", ["ca", .. signer, "-revoke", _eve.Certificate, "-crl_reason", "keyCompromise"])).EnsureSuccess("openssl ca -revoke");
        // The OCSP responder knows more than the CRL: mallory was revoked since it was published.
        var ocspConfig = _pki.File("ocsp.cnf");
        await File.WriteAllTextAsync(_pki.File("ocsp-index.txt"), "");
        await File.WriteAllTextAsync(ocspConfig, $"[ca]\ndefault_ca = d\n[d]\ndatabase = {_pki.File("ocsp-index.txt")}\ndefault_md = sha256\n");
        string[] ocspSigner = ["-config", ocspConfig, "-cert", issuing.Certificate, "-keyfile", issuing.Key];
        foreach (var good in new[] { _dana, _eve })
            (await Peer.RunAsync("openssl", ["ca", .. ocspSigner, "-valid", good.Certificate])).EnsureSuccess("openssl ca -valid");
        (await Peer.RunAsync("openssl", ["ca", .. ocspSigner, "-revoke", _mallory.Certificate])).EnsureSuccess("openssl ca -revoke (ocsp)");
        _ocsp = BackgroundProcess.Start("openssl", ["ocsp", "-index", _pki.File("ocsp-index.txt"), "-port", $"{_ocspPort}", "-rsigner", issuing.Certificate,
            "-rkey", issuing.Key, "-CA", issuing.Certificate, "-nmin", "60", "-ignore_err"]);
        await _ocsp.WaitForOutputAsync("waiting for OCSP client connections", TimeSpan.FromSeconds(20)); // no probe: it would hang this responder

        _nginx = await NginxPeer.StartAsync(async peer =>
        {
            Directory.CreateDirectory(peer.File("www"));
            (await Peer.RunAsync("openssl", ["ca", .. signer, "-gencrl", "-out", peer.File("www/issuing.crl")])).EnsureSuccess("openssl ca -gencrl");
            return $"server {{ listen 127.0.0.1:{_crlPort}; root {peer.File("www")}; }}";
        }, _crlPort);

        _proxy = await ProxyUnderTest.CreateAsync("company-revocation", $$"""
            trust:
              client_ca_files: [{{_pki.File("bundle.pem")}}]
              revocation:
                - ca: "{{IssuingDn}}"
                  crl_urls: [http://127.0.0.1:{{_crlPort}}/issuing.crl]
                  refresh: 10s
                  ocsp: http://127.0.0.1:{{_ocspPort}}
            identity_mappings:
              - issuer: "CN=Corp Issuing CA,O=Corp Example"
                san_email: "*@corp.example"
                user: "{email.local}"
                roles: [dev]
            """);
        await _proxy.StartProxyAsync();
        _hostCa = await _proxy.ExportHostCaAsync();
    }

    private async Task<(int Status, string Body)> GetAsync(string path, (string Certificate, string Key)? client = null)
    {
        string[] cert = client is { } c ? ["--cert", c.Certificate, "--key", c.Key] : [];
        var result = (await Peer.RunAsync("curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", "--cacert", _hostCa, .. cert,
            $"https://127.0.0.1:{_proxy.Port}{path}"], timeout: TimeSpan.FromSeconds(30))).EnsureSuccess("curl " + path);
        var cut = result.Stdout.LastIndexOf('\n');
        return (int.Parse(result.Stdout[(cut + 1)..], CultureInfo.InvariantCulture), result.Stdout[..cut]);
    }

    private async Task<(int Status, string Body)> PollAsync(string path, (string, string)? client, Func<(int Status, string Body), bool> done, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var response = await GetAsync(path, client);
            if (done(response)) return response;
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"{what}: last answer {response.Status} {response.Body}\n{_proxy.Output}");
            await Task.Delay(200);
        }
    }

    private static string? Reason(string body)
    {
        try { return JsonDocument.Parse(body).RootElement.TryGetProperty("reason", out var r) ? r.GetString() : null; }
        catch (JsonException) { return null; }
    }

    [Fact]
    public async Task A_revoked_company_certificate_is_refused_from_a_crl_url_and_from_its_disk_copy_after_a_restart()
    {
        // The first fetch runs in the background at start: until then dana is refused as unknown (fail closed).
        var dana = await PollAsync("/v1/whoami", _dana, r => r.Status == 200, "dana accepted once the CRL is fetched");
        Assert.Contains("\"dana\"", dana.Body);
        var eve = await GetAsync("/v1/whoami", _eve);
        Assert.Equal(401, eve.Status);
        Assert.Equal("ClientCertCrlHit", Reason(eve.Body));

        // On no CRL, but revoked at the OCSP responder: asked before the judgement, through the running proxy.
        var mallory = await GetAsync("/v1/whoami", _mallory);
        Assert.Equal(401, mallory.Status);
        Assert.Equal("ClientCertOcspRevoked", Reason(mallory.Body));

        var metrics = await GetAsync("/metrics");
        // The exporter may add labels of its own (otel_scope_name): the series is found by its ca label.
        Assert.Matches($"gatehouse_revocation_source_ok\\{{[^}}]*ca=\"{System.Text.RegularExpressions.Regex.Escape(IssuingDn)}\"[^}}]*\\}} 1", metrics.Body);
        Assert.DoesNotContain("revocation", (await GetAsync("/healthz")).Body);

        // The CRL server goes away and the proxy restarts: the copy on disk is still in force, and the failure is reported.
        await _nginx!.DisposeAsync();
        _nginx = null;
        await _proxy.KillAsync();
        await _proxy.StartProxyAsync();
        var health = await PollAsync("/healthz", null, r => r.Body.Contains("revocation"), "the failing CRL URL in /healthz");
        Assert.Equal(200, health.Status); // still serving, refusing what it cannot vouch for
        Assert.Equal("ClientCertCrlHit", Reason((await GetAsync("/v1/whoami", _eve)).Body));
        Assert.Equal(200, (await GetAsync("/v1/whoami", _dana)).Status);
        Assert.Matches($"gatehouse_revocation_source_ok\\{{[^}}]*ca=\"{System.Text.RegularExpressions.Regex.Escape(IssuingDn)}\"[^}}]*\\}} 0",
            (await GetAsync("/metrics")).Body);
        await _proxy.WaitForOutputAsync($"Revocation source failing: http://127.0.0.1:{_crlPort}/issuing.crl");

        // Refusals are audited with their reason.
        var audit = await _proxy.AuditAsync();
        Assert.Contains(audit, e => e.ToString().Contains("ClientCertCrlHit") && e.ToString().Contains("Eve"));
    }

    [Fact]
    public async Task User_certificates_name_the_user_crl_which_anyone_can_fetch_and_check()
    {
        var bob = await _proxy.IssueAsync("bob");
        var text = (await Peer.RunAsync("openssl", "x509", "-in", bob.Certificate, "-noout", "-ext", "crlDistributionPoints")).EnsureSuccess("openssl x509 -ext").Stdout;
        var url = $"https://127.0.0.1:{_proxy.Port}/v1/crl/user.crl";
        Assert.Contains($"URI:{url}", text);

        (await _proxy.Admin.RunAsync("admin", "certs", "revoke", bob.Serial, "--reason", "key-compromise")).EnsureSuccess("certs revoke");
        var userCa = await _proxy.ExportUserCaAsync();
        var crl = _pki.File("user.crl");
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            // No client certificate: the CRL is public, as a distribution point must be.
            (await Peer.RunAsync("curl", "-sS", "--max-time", "20", "--cacert", _hostCa, "-o", crl, url)).EnsureSuccess("curl " + url);
            var listed = await Peer.RunAsync("openssl", "crl", "-inform", "DER", "-in", crl, "-CAfile", userCa, "-verify", "-noout", "-text");
            Assert.True(listed.Output.Contains("verify OK"), listed.Output + "\n" + (await Peer.RunAsync("curl", "-sS", "-i", "--cacert", _hostCa, url)).Output);
            if (listed.Stdout.Contains(bob.Serial, StringComparison.OrdinalIgnoreCase)) break; // the revocation reached this proxy
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"bob's serial never appeared in {url}:\n{listed.Stdout}");
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        if (_nginx is not null) await _nginx.DisposeAsync();
        if (_ocsp is not null) await _ocsp.DisposeAsync();
        _pki.Dispose();
    }
}
