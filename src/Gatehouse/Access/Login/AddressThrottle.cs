using System.Net;

namespace Gatehouse.Access.Login;

/// <summary>
/// The per-source-address half of the login throttle, kept by each proxy in memory. An attempt is counted when it starts
/// (<see cref="TryReserve"/>) and settled when its answer is known (<see cref="Settle"/>), so concurrent guesses from one
/// address cannot outrun the limit while their passwords are being hashed (issue 11). At most
/// <paramref name="maxAddresses"/> addresses are remembered: past that the least recently used one is forgotten, so a spray
/// from many addresses costs bounded memory — at the price of forgetting what the oldest address did.
/// </summary>
internal sealed class AddressThrottle(int limit, TimeSpan window, int maxAddresses, TimeProvider time)
{
    /// <summary>A few megabytes at most (an entry holds up to the limit of failure times), and far more addresses than guess
    /// at one proxy within a window in practice.</summary>
    public const int DefaultMaxAddresses = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _leastRecentlyUsedFirst = new();

    private sealed class Entry(IPAddress address)
    {
        public IPAddress Address { get; } = address;
        public Queue<DateTimeOffset> Failures { get; } = new();
        public int InProgress { get; set; }
        public DateTimeOffset LastUsed { get; set; }
    }

    /// <summary>How many addresses are remembered now.</summary>
    public int TrackedAddresses
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    /// <summary>True (and the attempt counted) when <paramref name="address"/> has fewer than the limit of failures in the
    /// window and attempts in progress; false when it is throttled.</summary>
    public bool TryReserve(IPAddress address)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            ForgetIdle(now);
            var entry = Touch(address, now, create: true)!;
            while (entry.Failures.Count > 0 && entry.Failures.Peek() < now - window) entry.Failures.Dequeue();
            if (entry.Failures.Count + entry.InProgress >= limit) return false;
            entry.InProgress++;
            return true;
        }
    }

    /// <summary>Ends a reserved attempt: a failure stays counted for the window, anything else stops counting.</summary>
    public void Settle(IPAddress address, bool failed)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (Touch(address, now, create: false) is not { } entry) return; // forgotten meanwhile (the table was full)
            entry.InProgress = Math.Max(0, entry.InProgress - 1);
            if (failed) entry.Failures.Enqueue(now);
            else if (entry.Failures.Count == 0 && entry.InProgress == 0) Forget(_entries[address]);
        }
    }

    /// <summary>The address's entry, made the most recently used; a new one when <paramref name="create"/> (evicting the least
    /// recently used entry when the table is full).</summary>
    private Entry? Touch(IPAddress address, DateTimeOffset now, bool create)
    {
        if (_entries.TryGetValue(address, out var node))
            _leastRecentlyUsedFirst.Remove(node);
        else if (!create)
            return null;
        else
        {
            if (_entries.Count >= maxAddresses) Forget(_leastRecentlyUsedFirst.First!);
            node = new LinkedListNode<Entry>(new Entry(address));
            _entries[address] = node;
        }
        _leastRecentlyUsedFirst.AddLast(node);
        node.Value.LastUsed = now;
        return node.Value;
    }

    /// <summary>Drops entries unused for a whole window with nothing in progress: their failures have all expired.</summary>
    private void ForgetIdle(DateTimeOffset now)
    {
        while (_leastRecentlyUsedFirst.First is { Value: { InProgress: 0 } oldest } node && oldest.LastUsed < now - window)
            Forget(node);
    }

    private void Forget(LinkedListNode<Entry> node)
    {
        _leastRecentlyUsedFirst.Remove(node);
        _entries.Remove(node.Value.Address);
    }
}
