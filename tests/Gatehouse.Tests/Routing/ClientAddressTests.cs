using System.Net;
using Gatehouse.Routing;

namespace Gatehouse.Tests.Routing;

public sealed class ClientAddressTests
{
    private static readonly IPNetwork[] Trusted = [IPNetwork.Parse("10.0.0.0/16"), IPNetwork.Parse("127.0.0.1/32")];

    private static string Resolve(string peer, params string[] forwardedFor) =>
        ClientAddress.Resolve(IPAddress.Parse(peer), forwardedFor, a => Trusted.Any(n => n.Contains(a)), out _).ToString();

    [Theory]
    [InlineData("10.0.1.5", new[] { "203.0.113.7" }, "203.0.113.7")]                          // one balancer
    [InlineData("10.0.1.5", new[] { "198.51.100.1, 203.0.113.7" }, "203.0.113.7")]            // client-written entry left of it is ignored
    [InlineData("10.0.1.5", new[] { "203.0.113.7, 10.0.2.9" }, "203.0.113.7")]                // two trusted hops
    [InlineData("10.0.1.5", new[] { "203.0.113.7", "10.0.2.9" }, "203.0.113.7")]              // the same in two header lines
    [InlineData("10.0.1.5", new[] { "203.0.113.7:5555" }, "203.0.113.7")]                     // with port
    [InlineData("10.0.1.5", new[] { "[2001:db8::1]:443" }, "2001:db8::1")]
    [InlineData("10.0.1.5", new[] { "10.0.3.3, 10.0.2.9" }, "10.0.3.3")]                      // all trusted: the leftmost
    [InlineData("10.0.1.5", new[] { "garbage, 203.0.113.7" }, "203.0.113.7")]
    [InlineData("10.0.1.5", new[] { "203.0.113.7, garbage" }, "10.0.1.5")]                   // unreadable hop: stop at what we know
    [InlineData("192.0.2.50", new[] { "203.0.113.7" }, "192.0.2.50")]                        // untrusted peer: header ignored
    public void Walks_from_the_right_past_trusted_hops(string peer, string[] forwardedFor, string expected) =>
        Assert.Equal(expected, Resolve(peer, forwardedFor));

    [Fact]
    public void Untrusted_peer_with_the_header_is_reported_and_mapped_ipv4_is_normalised()
    {
        ClientAddress.Resolve(IPAddress.Parse("192.0.2.50"), ["203.0.113.7"], _ => false, out var ignored);
        Assert.True(ignored);
        Assert.Equal("10.0.1.5", ClientAddress.Resolve(IPAddress.Parse("::ffff:10.0.1.5"), [], _ => true, out _).ToString());
    }

    [Fact]
    public void The_walk_stops_after_the_hop_limit()
    {
        var longChain = string.Join(", ", Enumerable.Range(1, 20).Select(i => $"10.0.9.{i}"));
        Assert.Equal("10.0.9.13", Resolve("10.0.1.5", longChain)); // 8 entries from the right: 20..13
    }
}
