using System.Net;
using Gatehouse.Edge.Configuration;
using Gatehouse.Edge.Targets;

namespace Gatehouse.Edge.Tests.Routing;

/// <summary>Which target a request goes to as health checks change: the healthy ones in turn, and every one when none is
/// healthy (an ALB fails open) — never no target, which would answer 503 while the group has targets.</summary>
public sealed class TargetGroupTests
{
    private static readonly HealthCheckOptions Checks = new("/health", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 2, 2, "200");

    [Fact]
    public void Round_robin_skips_an_unhealthy_target_and_fails_open_when_every_target_is_unhealthy()
    {
        using var group = new TargetGroup(new TargetGroupOptions("pair", TargetProtocol.Http,
            [new DnsEndPoint("127.0.0.1", 1001), new DnsEndPoint("127.0.0.1", 1002)], null, Checks), TimeSpan.FromSeconds(60));
        var (a, b) = (group.Targets[0], group.Targets[1]);

        MarkUnhealthy(b);
        Assert.All(Enumerable.Range(0, 6).Select(_ => group.Next()), t => Assert.Same(a, t));

        MarkUnhealthy(a);
        var open = Enumerable.Range(0, 6).Select(_ => group.Next()).ToList();
        Assert.Equal(3, open.Count(t => ReferenceEquals(t, a)));
        Assert.Equal(3, open.Count(t => ReferenceEquals(t, b)));
    }

    private static void MarkUnhealthy(Target target)
    {
        for (var i = 0; i < Checks.UnhealthyThreshold; i++) target.Record(passed: false, Checks);
        Assert.False(target.Healthy);
    }
}
