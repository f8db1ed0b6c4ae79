using System.Net;
using Gatehouse.Access.Login;

namespace Gatehouse.Tests.Access.Login;

public sealed class AddressThrottleTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    private static readonly IPAddress Guesser = IPAddress.Parse("192.0.2.1");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 21, 9, 30, 0, TimeSpan.Zero));

    private static IPAddress Address(int i) => new([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);

    [Fact]
    public void Attempts_in_progress_count_and_only_failures_stay_counted()
    {
        var throttle = new AddressThrottle(3, Window, 100, _time);

        Assert.True(throttle.TryReserve(Guesser));
        Assert.True(throttle.TryReserve(Guesser));
        Assert.True(throttle.TryReserve(Guesser));
        Assert.False(throttle.TryReserve(Guesser)); // three in progress: the limit, before any answer

        throttle.Settle(Guesser, failed: false);
        Assert.True(throttle.TryReserve(Guesser));
        throttle.Settle(Guesser, failed: true);
        throttle.Settle(Guesser, failed: true);
        throttle.Settle(Guesser, failed: true);
        Assert.False(throttle.TryReserve(Guesser));

        _time.Advance(Window + TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryReserve(Guesser));
    }

    [Fact]
    public void A_spray_from_many_addresses_is_remembered_in_bounded_memory_oldest_forgotten_first()
    {
        var throttle = new AddressThrottle(3, Window, 100, _time);

        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(throttle.TryReserve(Address(i)));
            throttle.Settle(Address(i), failed: true);
            Assert.InRange(throttle.TrackedAddresses, 1, 100);
        }

        // The newest 100 are remembered; the oldest were forgotten to make room.
        Assert.Equal(100, throttle.TrackedAddresses);
        for (var i = 0; i < 2; i++)
        {
            Assert.True(throttle.TryReserve(Address(9_999)));
            throttle.Settle(Address(9_999), failed: true);
        }
        Assert.False(throttle.TryReserve(Address(9_999)));
    }

    [Fact]
    public void Addresses_with_nothing_to_remember_are_forgotten()
    {
        var throttle = new AddressThrottle(3, Window, 100, _time);

        Assert.True(throttle.TryReserve(Address(1)));
        throttle.Settle(Address(1), failed: false); // a login that was not a failure leaves nothing behind
        Assert.Equal(0, throttle.TrackedAddresses);

        Assert.True(throttle.TryReserve(Address(2)));
        throttle.Settle(Address(2), failed: true);
        _time.Advance(Window + TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryReserve(Address(3))); // on the way, the idle entry of address 2 is dropped
        Assert.Equal(1, throttle.TrackedAddresses);
    }
}
