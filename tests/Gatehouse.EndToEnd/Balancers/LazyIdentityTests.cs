namespace Gatehouse.EndToEnd.Balancers;

/// <summary>A forwarded certificate is judged only for requests that use an identity: /healthz through a front does
/// not decode, validate or audit it; /v1/whoami on the same front does.</summary>
[Collection(BalancerCollection.Name)]
public sealed class LazyIdentityTests(BalancerCluster cluster)
{
    [Fact]
    public async Task Healthz_through_a_front_does_not_judge_the_certificate_and_whoami_does()
    {
        var ivy = await cluster.Proxy.IssueAsync("ivy", "--roles", "dev");

        var health = await cluster.GetAsync(cluster.AlbPort, ivy, "/healthz");
        Assert.True(health.Status == 200, health.ToString());
        Assert.Empty(await cluster.Proxy.AuditAsync("--type", "client_cert.accepted", "--user", "ivy"));

        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, ivy);
        Assert.True(whoami.Status == 200 && whoami.User == "ivy", whoami.ToString());
        Assert.Single(await cluster.Proxy.AuditAsync("--type", "client_cert.accepted", "--user", "ivy"));
    }
}
