namespace Gatehouse.Tests.Pki;

/// <summary>A clock the test sets (the platform's FakeTimeProvider package is not in the registry mirror).</summary>
internal sealed class FakeTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
