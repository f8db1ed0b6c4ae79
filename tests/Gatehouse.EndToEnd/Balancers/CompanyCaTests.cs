namespace Gatehouse.EndToEnd.Balancers;

/// <summary>Company certificates (an openssl-made root → issuing CA → leaf) through the ALB-style nginx: identity_mappings
/// turn them into users; without a rule that matches, they are refused; a CA nobody trusts is refused as untrusted.</summary>
[Collection(BalancerCollection.Name)]
public sealed class CompanyCaTests(BalancerCluster cluster)
{
    [Fact]
    public async Task A_company_certificate_with_a_matching_email_becomes_the_mapped_user()
    {
        var (certificate, key) = await cluster.CorpIssuing.ClientAsync("dana", "/O=Corp Example/CN=Dana Device", email: "dana@corp.example");

        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, new IssuedCertificate(certificate, key, ""));

        Assert.True(whoami.Status == 200, whoami.ToString());
        Assert.Equal("dana", whoami.User);
        Assert.Equal(["dev"], whoami.Roles);
        Assert.Equal("forwarded-header", whoami.Get("source"));
        Assert.Equal(BalancerCluster.AlbFront, whoami.Get("front"));
    }

    [Fact]
    public async Task A_company_certificate_without_the_email_is_refused_for_want_of_a_mapping()
    {
        var (certificate, key) = await cluster.CorpIssuing.ClientAsync("printer", "/O=Corp Example/CN=Printer 7");

        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, new IssuedCertificate(certificate, key, ""));

        Assert.True(whoami.Status == 401, whoami.ToString());
        Assert.Equal("ClientCertRejected", whoami.Reason);
        Assert.Contains("no identity mapping", whoami.Error);
    }

    [Fact]
    public async Task A_certificate_from_a_ca_outside_the_trust_store_is_untrusted()
    {
        // nginx (optional_no_ca) forwards it, as an ALB in passthrough would; the verdict is Gatehouse's.
        var stranger = await OpensslCa.RootAsync(cluster.Proxy.Directory, "stranger-ca", "/O=Elsewhere/CN=Stranger CA");
        var (certificate, key) = await stranger.ClientAsync("stranger", "/O=Elsewhere/CN=Eve", email: "eve@corp.example");

        var whoami = await cluster.WhoAmIAsync(cluster.AlbPort, new IssuedCertificate(certificate, key, ""));

        Assert.True(whoami.Status == 401, whoami.ToString());
        Assert.Equal("ClientCertUntrusted", whoami.Reason);
    }
}
