using System.IO.Pipelines;
using Gatehouse.Client.Dialing;
using Gatehouse.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Client.Tests.Dialing;

/// <summary>The pool's sizing, expiry and keying on a fake clock, over in-memory tunnels whose far end the test closes.</summary>
public sealed class TunnelPoolTests : IAsyncDisposable
{
    private static readonly TunnelPoolSettings Settings = new(MaxSize: 2, MaxIdle: TimeSpan.FromSeconds(5), DemandWindow: TimeSpan.FromSeconds(30));
    private static readonly TunnelPoolKey Alice = new("lb.example.com:443", "AA", "AA", false, TunnelKind.WebSocket, true);
    private static readonly TunnelPoolKey Bob = Alice with { ClientCertificate = "BB", OuterCertificate = "BB" };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly List<(TunnelPoolKey Key, FakeTunnel Tunnel)> _opened = [];
    private readonly TunnelPool _pool;
    private TaskCompletionSource? _gate;

    public TunnelPoolTests() => _pool = new TunnelPool(Settings, OpenAsync, _time);

    private async Task<(Stream?, string?)> OpenAsync(TunnelPoolKey key, CancellationToken cancellationToken)
    {
        if (_gate is { } gate) await gate.Task.WaitAsync(cancellationToken);
        var tunnel = new FakeTunnel();
        lock (_opened) _opened.Add((key, tunnel));
        return (tunnel, null);
    }

    private int OpenedCount
    {
        get { lock (_opened) return _opened.Count; }
    }

    [Fact]
    public async Task The_first_dial_opens_fresh_then_the_pool_keeps_one_ready_and_the_next_dial_takes_it()
    {
        var (first, pooled, _) = await _pool.TakeAsync(Alice, CancellationToken.None);
        Assert.False(pooled);
        await Until(() => _pool.Ready == 1);

        var (second, pooledAgain, _) = await _pool.TakeAsync(Alice, CancellationToken.None);
        Assert.True(pooledAgain);
        Assert.IsType<PooledTunnel>(second);
        await Until(() => _pool.Ready == 1);
        Assert.Equal(3, OpenedCount);
        first!.Dispose();
        second.Dispose();
    }

    [Fact]
    public async Task The_refill_starts_as_a_dial_takes_a_ready_tunnel_so_its_round_trips_overlap_the_dials()
    {
        (await _pool.TakeAsync(Alice, CancellationToken.None)).Stream!.Dispose();
        await Until(() => _pool.Ready == 1);

        var (taken, pooled, _) = await _pool.TakeAsync(Alice, CancellationToken.None);

        // Before the caller runs its inner handshake, the next tunnel is already on its way (or ready).
        Assert.True(pooled);
        Assert.Equal(1, _pool.Pending + _pool.Ready);
        await Until(() => _pool.Ready == 1);
        Assert.Equal(3, OpenedCount);
        taken!.Dispose();
    }

    [Fact]
    public async Task The_pool_refills_to_the_peak_of_concurrent_dials_capped_at_its_size()
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dials = Enumerable.Range(0, 3).Select(_ => _pool.TakeAsync(Alice, CancellationToken.None)).ToArray();
        _gate.SetResult();
        foreach (var dial in dials) (await dial).Stream!.Dispose();

        await Until(() => _pool.Ready == 2);
        Assert.Equal(2, _pool.Target); // three at once, capped at two
        Assert.Equal(5, OpenedCount);
    }

    [Fact]
    public async Task A_ready_tunnel_is_replaced_before_it_reaches_the_proxys_hello_deadline()
    {
        Assert.True(Settings.MaxIdle < ProxyProtocol.TunnelHelloTimeout);
        (await _pool.TakeAsync(Alice, CancellationToken.None)).Stream!.Dispose();
        await Until(() => _pool.Ready == 1);
        var old = _opened[1].Tunnel;

        _time.Advance(Settings.MaxIdle); // the maintenance timer runs: the old one goes, a new one comes

        await Until(() => old.Disposed && _pool.Ready == 1);
        Assert.Equal(3, OpenedCount);
    }

    [Fact]
    public async Task With_no_dial_for_a_demand_window_the_pool_empties_and_stays_empty()
    {
        (await _pool.TakeAsync(Alice, CancellationToken.None)).Stream!.Dispose();
        await Until(() => _pool.Ready == 1);

        for (var waited = TimeSpan.Zero; waited <= Settings.DemandWindow; waited += Settings.MaxIdle / 2)
        {
            _time.Advance(Settings.MaxIdle / 2);
            await Until(() => _pool.Pending == 0 && _pool.Ready == _pool.Target);
        }

        Assert.Equal(0, _pool.Ready);
        Assert.Equal(0, _pool.Target);
        var opened = OpenedCount;
        _time.Advance(Settings.DemandWindow);
        Assert.Equal(opened, OpenedCount);
        Assert.All(_opened.Skip(1), o => Assert.True(o.Tunnel.Disposed));
    }

    [Fact]
    public async Task Another_identity_never_gets_a_tunnel_opened_for_the_first_and_the_first_ones_are_dropped()
    {
        (await _pool.TakeAsync(Alice, CancellationToken.None)).Stream!.Dispose();
        await Until(() => _pool.Ready == 1);
        var alicesReady = _opened[1].Tunnel;

        var (bobs, pooled, _) = await _pool.TakeAsync(Bob, CancellationToken.None);

        Assert.False(pooled);
        Assert.Equal(Bob, _opened[2].Key);
        await Until(() => alicesReady.Disposed && _pool.Ready == 1);
        Assert.All(_opened.Skip(2), o => Assert.Equal(Bob, o.Key));
        bobs!.Dispose();
    }

    [Fact]
    public async Task A_ready_tunnel_the_balancer_closed_is_never_handed_out()
    {
        (await _pool.TakeAsync(Alice, CancellationToken.None)).Stream!.Dispose();
        await Until(() => _pool.Ready == 1);
        var cut = _opened[1].Tunnel;

        cut.PeerCloses();
        await Until(() => _pool.Ready == 0);
        var (stream, pooled, _) = await _pool.TakeAsync(Alice, CancellationToken.None);

        Assert.False(pooled);
        Assert.True(cut.Disposed);
        stream!.Dispose();
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("on", 4)]
    [InlineData(" 8 ", 8)]
    [InlineData("off", null)]
    [InlineData("0", null)]
    public void The_setting_turns_the_pool_off_or_sizes_it(string? text, int? size)
    {
        var (settings, error) = TunnelPoolSettings.Parse(text);
        Assert.Null(error);
        Assert.Equal(size, settings?.MaxSize);
    }

    [Theory]
    [InlineData("17")]
    [InlineData("-1")]
    [InlineData("sometimes")]
    public void A_bad_setting_says_what_it_takes(string text)
    {
        var (settings, error) = TunnelPoolSettings.Parse(text);
        Assert.Null(settings);
        Assert.Contains("GATEHOUSE_TUNNEL_POOL", error, StringComparison.Ordinal);
        Assert.Contains("off, on or a number", error, StringComparison.Ordinal);
    }

    /// <summary>Background opens run on the thread pool: poll what they leave behind, with a deadline.</summary>
    private static async Task Until(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            deadline.Token.ThrowIfCancellationRequested();
            await Task.Delay(10, deadline.Token);
        }
    }

    public async ValueTask DisposeAsync() => await _pool.DisposeAsync();

    /// <summary>One end of a tunnel: reads what the far end writes (nothing, until it closes).</summary>
    private sealed class FakeTunnel : Stream
    {
        private readonly Pipe _fromPeer = new();

        public bool Disposed { get; private set; }

        public void PeerCloses() => _fromPeer.Writer.Complete();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _fromPeer.Reader.AsStream().ReadAsync(buffer, cancellationToken);

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !Disposed)
            {
                Disposed = true;
                _fromPeer.Writer.Complete();
            }
            base.Dispose(disposing);
        }
    }
}
