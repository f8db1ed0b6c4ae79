namespace Gatehouse.EndToEnd.Balancers;

/// <summary>`gatehouse admin fronts test` on exactly what nginx forwards (captured from <c>$ssl_client_escaped_cert</c>).</summary>
[Collection(BalancerCollection.Name)]
public sealed class FrontsTestCommandTests(BalancerCluster cluster)
{
    [Fact]
    public async Task A_captured_header_shows_the_identity_and_a_mangled_one_the_reason()
    {
        var capture = await Testing.Peer.RunAsync("curl", "-sS", "--max-time", "20", "--fail", "--cacert", cluster.BalancerCa,
            "--cert", cluster.Alice.Certificate, "--key", cluster.Alice.Key, $"https://127.0.0.1:{cluster.AlbPort}/captured-cert");
        capture.EnsureSuccess("curl /captured-cert");
        Assert.StartsWith("-----BEGIN%20CERTIFICATE-----", capture.Stdout);
        var file = cluster.Proxy.File("captured-header.txt");
        await File.WriteAllTextAsync(file, capture.Stdout);

        var good = await cluster.Proxy.Admin.RunAsync("admin", "fronts", "test", "--format", "aws-alb-passthrough", "--header-file", file);

        Assert.True(good.ExitCode == 0, good.Output);
        Assert.Contains("identity: alice (roles: dev, ops)", good.Stdout);

        // Cut the certificate short in the middle of its base64: not a certificate any more.
        var mangled = cluster.Proxy.File("mangled-header.txt");
        await File.WriteAllTextAsync(mangled, capture.Stdout[..(capture.Stdout.Length / 2)] + "%0A-----END%20CERTIFICATE-----%0A");
        var bad = await cluster.Proxy.Admin.RunAsync("admin", "fronts", "test", "--format", "aws-alb-passthrough", "--header-file", mangled);

        Assert.True(bad.ExitCode == 1, bad.Output);
        Assert.Contains("refused (ClientCertRejected)", bad.Stdout);
    }
}
