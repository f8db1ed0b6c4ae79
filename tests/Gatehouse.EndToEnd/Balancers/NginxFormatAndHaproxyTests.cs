namespace Gatehouse.EndToEnd.Balancers;

/// <summary>nginx's own convention (escaped PEM + <c>$ssl_client_verify</c>) and HAProxy's (base64 DER +
/// <c>ssl_c_verify</c>), each through the real balancer.</summary>
[Collection(BalancerCollection.Name)]
public sealed class NginxFormatAndHaproxyTests(BalancerCluster cluster)
{
    [Fact]
    public async Task Nginx_format_with_a_verified_certificate_is_the_users_identity()
    {
        var whoami = await cluster.WhoAmIAsync(cluster.NginxPort, cluster.Alice);

        Assert.True(whoami.Status == 200, whoami.ToString());
        Assert.Equal("alice", whoami.User);
        Assert.Equal(["dev", "ops"], whoami.Roles.Order());
        Assert.Equal("forwarded-header", whoami.Get("source"));
        Assert.Equal(BalancerCluster.NginxFront, whoami.Get("front"));
        Assert.Equal("127.0.0.1", whoami.Get("client_ip"));
    }

    [Fact]
    public async Task Nginx_format_without_a_certificate_sends_NONE_and_the_answer_is_NoClientCertificate()
    {
        var whoami = await cluster.WhoAmIAsync(cluster.NginxPort, null);

        Assert.True(whoami.Status == 401, whoami.ToString());
        Assert.Equal("NoClientCertificate", whoami.Reason);
    }

    [Fact]
    public async Task Haproxy_with_a_gatehouse_certificate_is_the_users_identity()
    {
        var whoami = await cluster.WhoAmIAsync(cluster.HaproxyPort, cluster.Alice);

        Assert.True(whoami.Status == 200, whoami.ToString());
        Assert.Equal("alice", whoami.User);
        Assert.Equal(["dev", "ops"], whoami.Roles.Order());
        Assert.Equal("forwarded-header", whoami.Get("source"));
        Assert.Equal(BalancerCluster.HaproxyFront, whoami.Get("front"));
        Assert.Equal("127.0.0.1", whoami.Get("client_ip"));
    }

    [Fact]
    public async Task Haproxy_without_a_certificate_is_NoClientCertificate()
    {
        var whoami = await cluster.WhoAmIAsync(cluster.HaproxyPort, null);

        Assert.True(whoami.Status == 401, whoami.ToString());
        Assert.Equal("NoClientCertificate", whoami.Reason);
    }

    [Fact]
    public async Task Haproxy_forwards_an_expired_certificate_and_Gatehouse_refuses_it_as_expired()
    {
        // HAProxy (crt-ignore-err all) lets the expired certificate through with ssl_c_verify=10; the verdict is
        // Gatehouse's own. The certificate is valid for one second: poll until it is refused.
        var shortLived = await cluster.Proxy.IssueAsync("brief", "--roles", "dev", "--ttl", "1s");

        var whoami = await BalancerCluster.PollAsync(() => cluster.WhoAmIAsync(cluster.HaproxyPort, shortLived),
            r => r.Status != 200, TimeSpan.FromSeconds(15), "the one-second certificate expiring");

        Assert.True(whoami.Status == 401, whoami.ToString());
        Assert.Equal("ClientCertExpired", whoami.Reason);
    }
}
