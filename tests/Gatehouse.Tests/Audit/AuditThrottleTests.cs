using Gatehouse.Audit;

namespace Gatehouse.Tests.Audit;

public sealed class AuditThrottleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Fact]
    public void One_event_per_key_and_window()
    {
        var throttle = new AuditThrottle(Window);

        Assert.True(throttle.ShouldRecord("a", T0));
        Assert.False(throttle.ShouldRecord("a", T0 + TimeSpan.FromSeconds(9)));
        Assert.True(throttle.ShouldRecord("b", T0 + TimeSpan.FromSeconds(9)));
        Assert.True(throttle.ShouldRecord("a", T0 + Window));
    }

    [Fact]
    public void The_global_limit_caps_new_keys_and_the_next_recorded_event_carries_what_it_kept_out()
    {
        var throttle = new AuditThrottle(Window, globalLimit: 3);

        var admissions = Enumerable.Range(0, 8).Select(i => throttle.Admit($"198.51.100.{i}", T0 + TimeSpan.FromMilliseconds(i))).ToList();

        Assert.Equal([AuditVerdict.Record, AuditVerdict.Record, AuditVerdict.Record, AuditVerdict.OverCap, AuditVerdict.OverCap,
            AuditVerdict.OverCap, AuditVerdict.OverCap, AuditVerdict.OverCap], admissions.Select(a => a.Verdict));
        Assert.Equal([1L, 2, 3, 4, 5], admissions.Skip(3).Select(a => a.NotRecorded)); // 1: the cap was just reached
        // A key the cap kept out is not retried within its window; a key recorded before is a repeat, not over the cap.
        Assert.Equal(AuditVerdict.Repeat, throttle.Admit("198.51.100.5", T0 + TimeSpan.FromSeconds(1)).Verdict);
        Assert.Equal(AuditVerdict.Repeat, throttle.Admit("198.51.100.0", T0 + TimeSpan.FromSeconds(1)).Verdict);

        var next = throttle.Admit("203.0.113.1", T0 + Window);
        Assert.Equal(new AuditAdmission(AuditVerdict.Record, 5), next);
        Assert.Equal(new AuditAdmission(AuditVerdict.Record, 0), throttle.Admit("203.0.113.2", T0 + Window));
    }

    [Fact]
    public void Forgetting_keys_when_full_does_not_lift_the_global_limit()
    {
        var throttle = new AuditThrottle(Window, capacity: 4, globalLimit: 6);

        var recorded = Enumerable.Range(0, 100).Count(i => throttle.ShouldRecord($"k{i % 10}", T0 + TimeSpan.FromMilliseconds(i)));

        Assert.Equal(6, recorded);
    }
}
