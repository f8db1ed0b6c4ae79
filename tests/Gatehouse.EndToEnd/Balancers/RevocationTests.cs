namespace Gatehouse.EndToEnd.Balancers;

/// <summary>A certificate revoked with the CLI (on the proxy's own data directory) stops working through the balancer
/// within the proxy's trust refresh.</summary>
[Collection(BalancerCollection.Name)]
public sealed class RevocationTests(BalancerCluster cluster)
{
    [Fact]
    public async Task A_revoked_certificate_is_refused_as_a_crl_hit_within_the_refresh()
    {
        var bob = await cluster.Proxy.IssueAsync("bob", "--roles", "dev");
        var before = await cluster.WhoAmIAsync(cluster.AlbPort, bob);
        Assert.True(before.Status == 200 && before.User == "bob", before.ToString());

        (await cluster.Proxy.Admin.RunAsync("admin", "certs", "revoke", bob.Serial, "--reason", "key-compromise")).EnsureSuccess("certs revoke");

        var after = await BalancerCluster.PollAsync(() => cluster.WhoAmIAsync(cluster.AlbPort, bob), r => r.Status != 200,
            TimeSpan.FromSeconds(15), "the revocation reaching the proxy");
        Assert.True(after.Status == 401, after.ToString());
        Assert.Equal("ClientCertCrlHit", after.Reason);

        // The other balancers see the same trust store.
        var haproxy = await cluster.WhoAmIAsync(cluster.HaproxyPort, bob);
        Assert.Equal("ClientCertCrlHit", haproxy.Reason);
        // Others are untouched.
        Assert.Equal("alice", (await cluster.WhoAmIAsync(cluster.AlbPort, cluster.Alice)).User);
    }
}
