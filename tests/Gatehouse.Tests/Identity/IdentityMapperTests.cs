using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Identity;

namespace Gatehouse.Tests.Identity;

public sealed class IdentityMapperTests
{
    private static X509Certificate2 Certificate(string subject, string issuer, Action<SubjectAlternativeNameBuilder>? san = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (san is not null)
        {
            var builder = new SubjectAlternativeNameBuilder();
            san(builder);
            request.CertificateExtensions.Add(builder.Build());
        }
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return request.Create(new X500DistinguishedName(issuer), X509SignatureGenerator.CreateForECDsa(issuerKey),
            DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), [1, 2, 3]);
    }

    private static IdentityMappingRule Rule(string issuer, string user, string? email = null, string? dns = null, string? uri = null, string? cn = null) =>
        new(issuer, email, dns, uri, cn, user, ["dev"]);

    [Fact]
    public void Email_rule_maps_the_local_part_and_needs_the_exact_issuer()
    {
        var mapper = new IdentityMapper([Rule("CN=Corp Device CA,O=Corp", "{email.local}", email: "*@corp.example")], "c1");
        using var good = Certificate("CN=laptop-17", "CN=Corp Device CA, O=Corp", b => b.AddEmailAddress("dana@corp.example"));
        var mapped = mapper.Map(good, issuedByGatehouse: false, "forwarded-header");
        Assert.Equal("dana", mapped.Identity?.User);
        Assert.Equal(["dev"], mapped.Identity!.Roles);
        Assert.Equal("c1", mapped.Identity.Cluster);

        using var otherIssuer = Certificate("CN=laptop-17", "CN=Corp Device CA 2, O=Corp", b => b.AddEmailAddress("dana@corp.example"));
        Assert.Contains("no identity mapping for issuer", mapper.Map(otherIssuer, false, "x").Error);
        using var otherDomain = Certificate("CN=laptop-17", "CN=Corp Device CA, O=Corp", b => b.AddEmailAddress("dana@evil.example"));
        Assert.Null(mapper.Map(otherDomain, false, "x").Identity);
    }

    [Fact]
    public void Spiffe_uri_dns_and_cn_rules_with_templates()
    {
        var mapper = new IdentityMapper(
        [
            Rule("CN=Mesh CA", "{san_uri.path}", uri: "spiffe://corp.example/*"),
            Rule("CN=Hosts CA", "host-{dns}", dns: "*.corp.example"),
            Rule("CN=People CA", "{cn}", cn: "*"),
        ], "c1");
        using var workload = Certificate("CN=w", "CN=Mesh CA", b => b.AddUri(new Uri("spiffe://corp.example/ns/billing/sa/api")));
        Assert.Equal("ns/billing/sa/api", mapper.Map(workload, false, "x").Identity?.User);
        using var host = Certificate("CN=h", "CN=Hosts CA", b => b.AddDnsName("web-1.corp.example"));
        Assert.Equal("host-web-1.corp.example", mapper.Map(host, false, "x").Identity?.User);
        using var person = Certificate("CN=erin", "CN=People CA");
        Assert.Equal("erin", mapper.Map(person, false, "x").Identity?.User);
    }

    [Fact]
    public void A_template_that_yields_no_usable_name_is_refused()
    {
        var mapper = new IdentityMapper([Rule("CN=People CA", "{email.local}", cn: "*")], "c1");
        using var noEmail = Certificate("CN=erin", "CN=People CA");
        Assert.Contains("no usable user name", mapper.Map(noEmail, false, "x").Error);
    }

    [Theory]
    [InlineData("{email.local}", null)]
    [InlineData("u-{cn}", null)]
    [InlineData("{nope}", "unknown variable")]
    [InlineData("{cn", "unbalanced")]
    [InlineData("", "empty")]
    public void Templates_are_checked(string template, string? error)
    {
        var problem = IdentityMapper.CheckTemplate(template);
        if (error is null) Assert.Null(problem);
        else Assert.Contains(error, problem);
    }
}
