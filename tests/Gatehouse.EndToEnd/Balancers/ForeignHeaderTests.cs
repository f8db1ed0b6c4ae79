namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// A balancer passes on whatever client headers it does not overwrite. A trusted front's request carrying a certificate
/// header of another format (here x-forwarded-client-cert, which nginx does not touch) loses it: the identity comes
/// only from the front's own header, and the removal is logged and audited.
/// </summary>
[Collection(BalancerCollection.Name)]
public sealed class ForeignHeaderTests(BalancerCluster cluster)
{
    [Fact]
    public async Task A_certificate_header_the_front_does_not_send_is_removed_and_audited()
    {
        var mallory = await cluster.Proxy.IssueAsync("mallory", "--roles", "admin");
        var xfcc = ForgeryTests.ForgedHeaders("envoy-xfcc", mallory.Certificate).Single();

        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, cluster.Alice, "-H", $"{xfcc.Name}: {xfcc.Value}");

        Assert.True(whoami.Status == 200, whoami.ToString());
        Assert.Equal("alice", whoami.User); // the front's own X-Amzn-Mtls-Clientcert, not mallory's XFCC
        var events = await cluster.Proxy.AuditAsync("--type", "forged_client_cert_header");
        Assert.Contains(events, e => ForgeryTests.Text(e, "reason") is { } r
            && r.Contains($"front '{BalancerCluster.AlbFront}' does not send", StringComparison.Ordinal)
            && r.EndsWith("x-forwarded-client-cert", StringComparison.Ordinal));
        await cluster.Proxy.WaitForOutputAsync($"that front {BalancerCluster.AlbFront} does not send");
    }

    [Fact]
    public async Task A_client_cannot_preset_the_header_the_front_sets()
    {
        // proxy_set_header replaces the client's copy; without a client certificate nginx sends none at all.
        var mallory = await cluster.Proxy.IssueAsync("mallory2", "--roles", "admin");
        var alb = ForgeryTests.ForgedHeaders("aws-alb-passthrough", mallory.Certificate).Single();

        var withCertificate = await cluster.WhoAmIAsync(cluster.AlbPort, cluster.Alice, "-H", $"{alb.Name}: {alb.Value}");
        var withoutCertificate = await cluster.WhoAmIAsync(cluster.AlbPort, null, "-H", $"{alb.Name}: {alb.Value}");

        Assert.Equal("alice", withCertificate.User);
        Assert.True(withoutCertificate.Status == 401 && withoutCertificate.Reason == "NoClientCertificate", withoutCertificate.ToString());
    }
}
