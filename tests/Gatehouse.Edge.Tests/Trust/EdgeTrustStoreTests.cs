using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Trust;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Trust;

/// <summary>The ALB's rules for a trust store (spec §1.6): what it refuses, it refuses with the ALB API's error name and
/// the line or file at fault.</summary>
public sealed class EdgeTrustStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TestCa _root;
    private readonly TestCa _issuing;

    public EdgeTrustStoreTests()
    {
        _root = TestCa.Root(_dir.Path, "CN=Root");
        _issuing = _root.Intermediate("CN=Issuing");
    }

    [Fact]
    public void A_bundle_with_comments_and_two_cas_and_a_crl_of_one_of_them_loads()
    {
        var crl = _issuing.Crl(_issuing.Client("CN=gone").Certificate);
        var store = Load("# our CAs\n" + Pem(_root) + "# issuing\n" + Pem(_issuing), crl);

        Assert.Single(store.Roots);
        Assert.Single(store.Intermediates);
        Assert.Single(store.CrlsByIssuer);
    }

    [Theory]
    [InlineData("blank", "line 2 is blank")]
    [InlineData("dash-comment", "line 1 is a comment containing '-'")]
    [InlineData("stray-text", "line 1 is neither a '#' comment nor the start")]
    [InlineData("leaf", "is not a CA certificate")]
    [InlineData("empty", "holds no CERTIFICATE block")]
    public void A_bundle_the_alb_would_refuse_is_refused_with_its_reason(string kind, string reason)
    {
        var text = kind switch
        {
            "blank" => Pem(_root).Insert(Pem(_root).IndexOf('\n') + 1, "\n"),
            "dash-comment" => "# root - do not remove\n" + Pem(_root),
            "stray-text" => "root CA follows\n" + Pem(_root),
            "leaf" => Pem(_root) + File.ReadAllText(_root.Client("CN=not a ca").CertificateFile),
            _ => "# nothing\n",
        };
        var errors = LoadErrors(text);
        var error = Assert.Single(errors);
        Assert.Contains("InvalidCaCertificatesBundle", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void More_than_25_cas_are_refused_as_the_alb_quota()
    {
        var text = string.Concat(Enumerable.Range(0, 26).Select(i => Pem(TestCa.Root(_dir.Path, $"CN=Root {i}"))));
        Assert.Contains("at most 25", Assert.Single(LoadErrors(text)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_crl_from_a_ca_outside_the_bundle_is_invalid_revocation_content()
    {
        var stranger = TestCa.Root(_dir.Path, "CN=Stranger");
        var errors = LoadErrors(Pem(_root), stranger.Crl());
        var error = Assert.Single(errors);
        Assert.Contains("InvalidRevocationContent", error, StringComparison.Ordinal);
        Assert.Contains("CN=Stranger", error, StringComparison.Ordinal);
    }

    private static string Pem(TestCa ca) => File.ReadAllText(ca.File);

    private EdgeTrustStore Load(string bundle, params string[] crls)
    {
        var errors = new List<string>();
        var store = EdgeTrustStore.Load(Options(bundle, crls), "trust_store", errors);
        Assert.True(store is not null, string.Join("\n", errors));
        return store;
    }

    private List<string> LoadErrors(string bundle, params string[] crls)
    {
        var errors = new List<string>();
        Assert.Null(EdgeTrustStore.Load(Options(bundle, crls), "trust_store", errors));
        return errors;
    }

    private TrustStoreOptions Options(string bundle, string[] crls)
    {
        var file = _dir.File($"bundle-{Guid.NewGuid():N}.pem");
        File.WriteAllText(file, bundle);
        return new TrustStoreOptions(file, crls);
    }

    public void Dispose() => _dir.Dispose();
}
