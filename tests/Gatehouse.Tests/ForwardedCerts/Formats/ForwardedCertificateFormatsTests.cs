using Gatehouse.ForwardedCerts.Formats;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>The registry, and the rules every format shares (spec §6.1: duplicates, size, absence).</summary>
public sealed class ForwardedCertificateFormatsTests
{
    [Fact]
    public void ById_holds_the_ten_fixed_ids()
    {
        Assert.Equal(
            ["aws-alb-passthrough", "aws-alb-verify", "azure-arr", "cloudflare", "envoy-xfcc", "gcp", "haproxy", "nginx", "rfc9440", "traefik"],
            ForwardedCertificateFormats.ById.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, format) in ForwardedCertificateFormats.ById) Assert.Equal(id, format.Id);
    }

    [Fact]
    public void AllDefaultHeaderNames_contains_every_default_header_of_every_format_in_lower_case()
    {
        var all = ForwardedCertificateFormats.AllDefaultHeaderNames;
        foreach (var format in ForwardedCertificateFormats.ById.Values)
            foreach (var name in format.DefaultHeaders.Values)
                Assert.Contains(name.ToLowerInvariant(), all);
        Assert.All(all, name => Assert.Equal(name.ToLowerInvariant(), name));
        Assert.Contains("x-amzn-mtls-clientcert-serial-number", all);
        Assert.Contains("x-client-cert-chain-verified", all);
    }

    public static TheoryData<string> FormatIds => FormatMutationTests.FormatIds;

    [Theory, MemberData(nameof(FormatIds))]
    public void Every_format_is_absent_without_headers_and_refuses_duplicated_or_oversized_headers(string formatId)
    {
        var format = ForwardedCertificateFormats.ById[formatId];
        var valid = ValidHeaders.For(formatId);
        Assert.Equal(DecodeStatus.Absent, format.Decode(ReceivedHeaders.Of(), Encode.Defaults, new DecodeLimits()).Status);
        Assert.Equal(DecodeStatus.Absent, format.Decode(ReceivedHeaders.Of(("X-Unrelated", "1")), Encode.Defaults, new DecodeLimits()).Status);
        foreach (var line in valid)
        {
            var twice = format.Decode(ReceivedHeaders.Of([.. valid, (line.Name.ToUpperInvariant(), line.Value)]), Encode.Defaults, new DecodeLimits());
            Encode.AssertRefused(twice, $"header {line.Name} was sent 2 times");
        }
        var longest = valid.MaxBy(line => line.Value.Length);
        var small = format.Decode(ReceivedHeaders.Of(valid), Encode.Defaults, new DecodeLimits(MaxHeaderBytes: longest.Value.Length - 1));
        Encode.AssertRefused(small, $"header {longest.Name} is {longest.Value.Length} bytes long, over the limit of {longest.Value.Length - 1}");
    }

    [Fact]
    public void ReceivedHeaders_merges_names_that_differ_only_in_case_so_copies_are_counted()
    {
        var headers = new ReceivedHeaders(new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["X-ARR-ClientCert"] = [Encode.Base64(TestPki.Shared.EcLeaf)],
            ["x-arr-clientcert"] = [Encode.Base64(TestPki.Shared.RsaLeaf)],
        });
        Assert.Equal(2, headers.Get("X-Arr-Clientcert").Count);
        Encode.AssertRefused(ForwardedCertificateFormats.ById["azure-arr"].Decode(headers, Encode.Defaults, new DecodeLimits()), "was sent 2 times");
    }

    public static TheoryData<string, string> HostileValues()
    {
        var data = new TheoryData<string, string>();
        string[] patterns = ["-----BEGIN ", "-----BEGIN CERTIFICATE-----", "%", "%2", "\"", "\\", ":", ",", ";", "=", "+", "#", "\u00e9", "\0"];
        foreach (var id in ForwardedCertificateFormats.ById.Keys.Order(StringComparer.Ordinal))
            foreach (var pattern in patterns)
                data.Add(id, pattern);
        return data;
    }

    /// <summary>Header-sized repetitions of each format's delimiters in each header it reads: never decoded, never a throw.</summary>
    [Theory, MemberData(nameof(HostileValues))]
    public void Header_sized_runs_of_delimiters_are_refused(string formatId, string pattern)
    {
        var format = ForwardedCertificateFormats.ById[formatId];
        var filler = string.Concat(Enumerable.Repeat(pattern, 16 * 1024 / pattern.Length));
        var valid = ValidHeaders.For(formatId);
        foreach (var name in valid.Select(line => line.Name))
        {
            var lines = valid.Select(line => line.Name == name ? (name, filler) : line).ToArray();
            Assert.NotEqual(DecodeStatus.Decoded, format.Decode(ReceivedHeaders.Of(lines), Encode.Defaults, new DecodeLimits()).Status);
        }
    }
}
