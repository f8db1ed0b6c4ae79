using System.Formats.Asn1;
using System.Security.Cryptography;
using Gatehouse.ForwardedCerts.Formats;
using Xunit.Abstractions;

namespace Gatehouse.Tests.ForwardedCerts.Formats;

/// <summary>
/// Property tests: 500 seeded random mutations per format (flip a bit, replace, insert or delete a byte, duplicate
/// the header, truncate) of a valid header set. A decoder must never throw, and a Decoded leaf must be the original
/// one — or, where a mutation changed only bytes that no decoder can check (a bit inside the signature, say), a
/// certificate the issuer never signed, which the validator then refuses. Formats whose headers carry a digest of
/// the leaf must return the original leaf or nothing.
/// </summary>
public sealed class FormatMutationTests(ITestOutputHelper output)
{
    private const int Mutations = 500;

    public static TheoryData<string> FormatIds => new(ForwardedCertificateFormats.ById.Keys.Order(StringComparer.Ordinal));

    [Theory, MemberData(nameof(FormatIds))]
    public void Mutations_never_throw_and_never_decode_another_signed_leaf(string formatId)
    {
        var pki = TestPki.Shared;
        var format = ForwardedCertificateFormats.ById[formatId];
        var valid = ValidHeaders.For(formatId);
        Encode.AssertDecoded(format.Decode(ReceivedHeaders.Of(valid), Encode.Defaults, new DecodeLimits()), pki.EcLeaf,
            formatId is "aws-alb-verify" or "nginx" or "haproxy" or "cloudflare" or "azure-arr" ? [] : [pki.EcIntermediate, pki.EcRoot]);
        var originalTbs = SignedCertificates.Tbs(pki.EcLeaf.RawData)!;

        var random = new Random(formatId.Aggregate(9440, (hash, c) => hash * 31 + c));
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < Mutations; i++)
        {
            var lines = Mutate(valid, random, out var mutation);
            DecodeResult result;
            try
            {
                result = format.Decode(ReceivedHeaders.Of(lines), Encode.Defaults, new DecodeLimits());
            }
            catch (Exception e)
            {
                Assert.Fail($"{formatId} threw on mutation {i} ({mutation}): {e}");
                throw;
            }
            var outcome = result.Status.ToString();
            if (result.Status == DecodeStatus.Decoded)
            {
                Assert.NotNull(result.Leaf);
                if (!result.Leaf.RawData.AsSpan().SequenceEqual(pki.EcLeaf.RawData))
                {
                    Assert.False(ValidHeaders.CarriesDigest(formatId), $"{formatId} decoded an altered leaf despite its digest after mutation {i} ({mutation})");
                    var tbs = SignedCertificates.Tbs(result.Leaf.RawData);
                    var signed = tbs is not null && SignedCertificates.SignedBy(result.Leaf.RawData, pki.EcIntermediateKey);
                    Assert.False(signed && !tbs!.AsSpan().SequenceEqual(originalTbs),
                        $"{formatId} decoded a different certificate that the issuer signed after mutation {i} ({mutation})");
                    outcome = "Decoded, altered and unsigned";
                }
                else outcome = "Decoded, same leaf";
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        output.WriteLine($"{formatId}: {string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}"))}");
    }

    private static (string Name, string Value)[] Mutate((string Name, string Value)[] valid, Random random, out string mutation)
    {
        var lines = valid.ToList();
        var index = random.Next(lines.Count);
        var (name, value) = lines[index];
        var at = random.Next(value.Length + 1);
        var kind = random.Next(6);
        if (at == value.Length && kind is 0 or 1 or 3) kind = 2;
        var b = (char)random.Next(256);
        (mutation, value) = kind switch
        {
            0 => ($"flip a bit at {at} of {name}", value[..at] + (char)(value[at] ^ (1 << random.Next(8))) + value[(at + 1)..]),
            1 => ($"replace {at} of {name} with \\x{(int)b:X2}", value[..at] + b + value[(at + 1)..]),
            2 => ($"insert \\x{(int)b:X2} at {at} of {name}", value[..at] + b + value[at..]),
            3 => ($"delete {at} of {name}", value[..at] + value[(at + 1)..]),
            4 => ($"duplicate {name}", value),
            _ => ($"truncate {name} at {at}", value[..at]),
        };
        if (kind == 4) lines.Add((name, value));
        else lines[index] = (name, value);
        return [.. lines];
    }
}
