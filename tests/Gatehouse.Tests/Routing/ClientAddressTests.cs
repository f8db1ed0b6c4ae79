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

    [Theory]
    [InlineData("10.0.1.5", new string[0], "")]                                                   // no header, nothing claimed
    [InlineData("10.0.1.5", new[] { "203.0.113.7" }, "")]
    [InlineData("10.0.1.5", new[] { "198.51.100.1, 203.0.113.7" }, "198.51.100.1")]            // what the client wrote
    [InlineData("10.0.1.5", new[] { "198.51.100.1, 203.0.113.7, 10.0.2.9" }, "198.51.100.1")]
    [InlineData("10.0.1.5", new[] { "198.51.100.1", "203.0.113.7", "10.0.2.9" }, "198.51.100.1")] // across header lines
    [InlineData("10.0.1.5", new[] { "192.0.2.1, 10.0.3.3, 203.0.113.7" }, "192.0.2.1, 10.0.3.3")] // a trusted address left of the client is a claim
    [InlineData("10.0.1.5", new[] { "203.0.113.7, garbage" }, "203.0.113.7, garbage")]          // unreadable hop: all of it, left of the peer
    [InlineData("10.0.1.5", new[] { " 198.51.100.1 ,, 203.0.113.7:5555" }, "198.51.100.1")]      // trimmed, empty entries left out
    [InlineData("192.0.2.50", new[] { "198.51.100.1, 10.0.2.9" }, "198.51.100.1, 10.0.2.9")]   // untrusted peer: the whole header is a claim
    public void What_stands_left_of_the_client_is_a_claim(string peer, string[] forwardedFor, string claimed)
    {
        var found = ClientAddress.Walk(IPAddress.Parse(peer), forwardedFor, a => Trusted.Any(n => n.Contains(a)), out _);
        Assert.Equal(claimed, string.Join(", ", found.Claimed()));
        Assert.Equal(Resolve(peer, forwardedFor), found.Client.ToString());
    }

    [Fact]
    public void Past_the_hop_limit_everything_left_of_the_last_hop_read_is_a_claim()
    {
        var longChain = string.Join(", ", Enumerable.Range(1, 20).Select(i => $"10.0.9.{i}"));
        var found = ClientAddress.Walk(IPAddress.Parse("10.0.1.5"), [longChain], a => Trusted.Any(n => n.Contains(a)), out _);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"10.0.9.{i}"), found.Claimed());
    }
}
