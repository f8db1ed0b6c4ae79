using System.Text.Json;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

public sealed class StartTests
{
    private static string Config(TempDirectory dir, int port, string extra = "") =>
        $"""
        cluster_name: e2e
        data_dir: {dir.File("data")}
        proxy:
          listen: 127.0.0.1:{port}
          public_addr: [gatehouse.test, 127.0.0.1]
        {extra}
        """;

    [Fact]
    public async Task First_start_creates_the_data_dir_and_ping_answers_over_the_host_ca_certificate()
    {
        using var dir = new TempDirectory();
        var port = Peer.FreePort();
        await File.WriteAllTextAsync(dir.File("gatehouse.yaml"), Config(dir, port));
        var cli = new GatehouseCli(dir.Path);
        await using (var proxy = cli.Start("start"))
        {
            await proxy.WaitForOutputAsync("Proxy listening on", TimeSpan.FromSeconds(60));
            Assert.Contains("Created the cluster in SQLite", proxy.Output);
            Assert.Contains("admin certs issue", proxy.Output);
            Assert.True(File.Exists(dir.File("data/gatehouse.db")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.File("data")));

            var insecure = await Peer.RunAsync("curl", "-sSk", $"https://127.0.0.1:{port}/v1/ping");
            Assert.True(insecure.ExitCode == 0, insecure.Output);
            using var ping = JsonDocument.Parse(insecure.Stdout);
            Assert.Equal("e2e", ping.RootElement.GetProperty("cluster_name").GetString());
            Assert.True(ping.RootElement.GetProperty("seen").GetProperty("tls_terminated_by_proxy").GetBoolean());
            Assert.Equal(64, ping.RootElement.GetProperty("ca_fingerprints").GetProperty("user_sha256").GetString()!.Length);

            // Trusting only the host CA, curl verifies the proxy's certificate for its public name and sees what it sent.
            (await cli.RunAsync("admin", "ca", "export", "--kind", "host", "--out", dir.File("host-ca.pem"))).EnsureSuccess("ca export");
            var verified = await Peer.RunAsync("curl", "-sS", "--cacert", dir.File("host-ca.pem"), "--resolve", $"gatehouse.test:{port}:127.0.0.1",
                "-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Amzn-Mtls-Clientcert: x", $"https://gatehouse.test:{port}/v1/ping");
            Assert.True(verified.ExitCode == 0, verified.Output);
            using var seen = JsonDocument.Parse(verified.Stdout);
            var facts = seen.RootElement.GetProperty("seen");
            Assert.Equal("gatehouse.test", facts.GetProperty("sni").GetString());
            Assert.Equal("x-amzn-mtls-clientcert", facts.GetProperty("client_certificate_headers")[0].GetString());
            Assert.Equal("x-forwarded-for", facts.GetProperty("forwarding_headers")[0].GetString());
            var wrongName = await Peer.RunAsync("curl", "-sS", "--cacert", dir.File("host-ca.pem"), "--resolve", $"evil.test:{port}:127.0.0.1", $"https://evil.test:{port}/v1/ping");
            Assert.NotEqual(0, wrongName.ExitCode);
        }

        // A second start opens the same cluster.
        await using var again = cli.Start("start");
        await again.WaitForOutputAsync("Proxy listening on", TimeSpan.FromSeconds(60));
        Assert.Contains("Opened the cluster in SQLite", again.Output);
    }

    [Fact]
    public async Task A_bad_configuration_is_refused_with_every_problem_named()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.yaml"), """
            cluster_name: ""
            pki: { key_algorithm: dsa-512, max_chain_depth: 40 }
            proxy: { listen: "nowhere", public_addr: ["bad name!"] }
            """);
        var cli = new GatehouseCli(dir.Path);
        var result = await cli.RunAsync("start", "--config", "bad.yaml");
        Assert.Equal(2, result.ExitCode);
        foreach (var key in new[] { "cluster_name", "pki.key_algorithm", "pki.max_chain_depth", "proxy.listen", "proxy.public_addr[0]" })
            Assert.Contains(key, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr); // no stack trace
        Assert.False(Directory.Exists(dir.File("gatehouse-data")));

        await File.WriteAllTextAsync(dir.File("typo.yaml"), "proxy:\n  listne: 127.0.0.1:1\n");
        var typo = await cli.RunAsync("start", "--config", "typo.yaml");
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("typo.yaml", typo.Stderr);
        Assert.Contains("proxy.listne (line 2): unknown key (did you mean listen?)", typo.Stderr);
    }

    [Fact]
    public async Task The_certificate_lifetime_ceiling_is_checked_at_start_naming_its_key()
    {
        using var dir = new TempDirectory();
        var cli = new GatehouseCli(dir.Path);
        await File.WriteAllTextAsync(dir.File("bad.yaml"), "pki: { max_user_cert_ttl: forever }\n");
        var bad = await cli.RunAsync("start", "--config", "bad.yaml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("pki.max_user_cert_ttl: 'forever' is not a duration", bad.Stderr);

        // The default lifetime must fit under the ceiling (12h unless set).
        await File.WriteAllTextAsync(dir.File("above.yaml"), "pki: { user_cert_ttl: 24h }\n");
        var above = await cli.RunAsync("start", "--config", "above.yaml");
        Assert.Equal(2, above.ExitCode);
        Assert.Contains("pki.user_cert_ttl: 24h is above pki.max_user_cert_ttl (12h by default)", above.Stderr);
        Assert.False(Directory.Exists(dir.File("gatehouse-data")));
    }

    [Fact]
    public async Task Http_listen_and_bind_tunnel_identity_are_checked_naming_their_keys()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.yaml"), """
            proxy:
              listen: 127.0.0.1:4000
              http_listen: nowhere
              trusted_fronts:
                - { name: edge, format: nginx, source_cidrs: [10.0.0.0/8], bind_tunnel_identity: maybe }
            """);
        var cli = new GatehouseCli(dir.Path);
        var result = await cli.RunAsync("start", "--config", "bad.yaml");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("2 problem(s)", result.Stderr);
        Assert.Contains("proxy.http_listen: 'nowhere' is not an address:port", result.Stderr);
        Assert.Contains("proxy.trusted_fronts[0].bind_tunnel_identity: 'maybe' is not one of required, off", result.Stderr);

        // The TLS port's own address, and no one allowed to connect: both named.
        await File.WriteAllTextAsync(dir.File("same.yaml"), "proxy:\n  listen: 127.0.0.1:4000\n  http_listen: 127.0.0.1:4000\n");
        var same = await cli.RunAsync("start", "--config", "same.yaml");
        Assert.Equal(2, same.ExitCode);
        Assert.Contains("proxy.http_listen: 127.0.0.1:4000 is the TLS port", same.Stderr);
        await File.WriteAllTextAsync(dir.File("nobody.yaml"), "proxy:\n  listen: 127.0.0.1:4000\n  http_listen: 127.0.0.1:4001\n");
        var nobody = await cli.RunAsync("start", "--config", "nobody.yaml");
        Assert.Equal(2, nobody.ExitCode);
        Assert.Contains("proxy.http_listen: accepts connections only from", nobody.Stderr);
        Assert.False(Directory.Exists(dir.File("gatehouse-data")));
    }

    [Fact]
    public async Task Unusable_trust_files_stop_the_start_naming_each_file()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("not-a-bundle.pem"), "hello");
        await File.WriteAllTextAsync(dir.File("not-a-crl.crl"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
        await File.WriteAllTextAsync(dir.File("gatehouse.yaml"), Config(dir, Peer.FreePort(),
            "trust:\n  client_ca_files: [not-a-bundle.pem, missing.pem]\n  crl_files: [not-a-crl.crl]"));
        var result = await new GatehouseCli(dir.Path).RunAsync("start");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("3 problem(s)", result.Stderr);
        Assert.Contains("not-a-bundle.pem", result.Stderr);
        Assert.Contains("missing.pem", result.Stderr);
        Assert.Contains("not-a-crl.crl", result.Stderr);
    }

    [Fact]
    public async Task Revocation_policies_are_checked_naming_their_keys()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.yaml"), """
            trust:
              revocation:
                - ca: "CN=Corp Issuing, O=Corp"
                  crl_urls: [ftp://pki.corp.example/issuing.crl, "not a url"]
                  on_unknown: maybe
                  on_stale: ignore
                  stale_grace: soon
                  ocsp: sometimes
                - ca: "CN=Corp Root, O=Corp"
                - crl_files: [root.crl]
            """);
        var result = await new GatehouseCli(dir.Path).RunAsync("start", "--config", "bad.yaml");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("8 problem(s)", result.Stderr);
        Assert.Contains("trust.revocation[0].ocsp: 'sometimes' is not off, auto", result.Stderr);
        Assert.Contains("trust.revocation[0].crl_urls[0]: 'ftp://pki.corp.example/issuing.crl' is not an http:// or https:// URL", result.Stderr);
        Assert.Contains("trust.revocation[0].crl_urls[1]: 'not a url'", result.Stderr);
        Assert.Contains("trust.revocation[0].on_unknown: 'maybe' is not one of refuse, allow", result.Stderr);
        Assert.Contains("trust.revocation[0].on_stale: 'ignore' is not one of refuse, warn", result.Stderr);
        Assert.Contains("trust.revocation[0].stale_grace: 'soon' is not a duration", result.Stderr);
        Assert.Contains("trust.revocation[1]: gives no revocation source", result.Stderr);
        Assert.Contains("trust.revocation[2].ca: required", result.Stderr);
        Assert.False(Directory.Exists(dir.File("gatehouse-data")));
    }

    [Fact]
    public async Task The_wrong_master_key_is_refused_and_nothing_is_changed()
    {
        using var dir = new TempDirectory();
        var port = Peer.FreePort();
        await File.WriteAllTextAsync(dir.File("gatehouse.yaml"), Config(dir, port));
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var cli = new GatehouseCli(dir.Path, new Dictionary<string, string> { ["GATEHOUSE_MASTER_KEY"] = key });
        await using (var proxy = cli.Start("start"))
            await proxy.WaitForOutputAsync("Proxy listening on", TimeSpan.FromSeconds(60));
        Assert.False(File.Exists(dir.File("data/master.key"))); // the key lives where the operator keeps it

        var before = (await cli.RunAsync("admin", "ca", "export")).EnsureSuccess("ca export with the right key").Stdout;
        var other = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var wrong = await new GatehouseCli(dir.Path, new Dictionary<string, string> { ["GATEHOUSE_MASTER_KEY"] = other }).RunAsync("admin", "ca", "export");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("cannot decrypt the user CA key", wrong.Stderr);
        var none = await new GatehouseCli(dir.Path).RunAsync("admin", "ca", "export");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("master.key is missing", none.Stderr);
        Assert.Equal(before, (await cli.RunAsync("admin", "ca", "export")).EnsureSuccess("ca export again").Stdout);
    }
}
