namespace Gatehouse.EndToEnd.Balancers;

/// <summary>nginx playing an AWS ALB in passthrough mode: <c>ssl_verify_client optional_no_ca</c> and the escaped PEM in
/// <c>X-Amzn-Mtls-Clientcert</c>; Gatehouse re-verifies everything.</summary>
[Collection(BalancerCollection.Name)]
public sealed class NginxAlbPassthroughTests(BalancerCluster cluster)
{
    [Fact]
    public async Task A_gatehouse_certificate_through_the_balancer_is_the_users_identity()
    {
        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, cluster.Alice);

        Assert.True(whoami.Status == 200, whoami.ToString());
        Assert.Equal("alice", whoami.User);
        Assert.Equal(["dev", "ops"], whoami.Roles.Order());
        Assert.Equal("forwarded-header", whoami.Get("source"));
        Assert.Equal(BalancerCluster.AlbFront, whoami.Get("front"));
        Assert.Equal("127.0.0.1", whoami.Get("client_ip"));
        Assert.Equal(cluster.Alice.Serial, whoami.Get("serial"), ignoreCase: true);
    }

    [Fact]
    public async Task The_client_address_is_the_first_untrusted_hop_from_the_right_of_X_Forwarded_For()
    {
        // nginx appends the client's address (127.0.0.1, trusted like the fronts) to what the client sent:
        // "203.0.113.9, 198.51.100.7, 127.0.0.1" — walking from the right, 127.0.0.1 is skipped, 198.51.100.7 is the client.
        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, cluster.Alice, "-H", "X-Forwarded-For: 203.0.113.9, 198.51.100.7");

        Assert.True(whoami.Status == 200, whoami.ToString());
        Assert.Equal("198.51.100.7", whoami.Get("client_ip"));
        Assert.Equal("alice", whoami.User);
    }

    [Fact]
    public async Task Without_a_client_certificate_the_answer_is_401_NoClientCertificate()
    {
        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, null);

        Assert.True(whoami.Status == 401, whoami.ToString());
        Assert.Equal("NoClientCertificate", whoami.Reason);
    }
}
