using System.Buffers;
using Gatehouse.Routing;

namespace Gatehouse.Tests.Routing;

public sealed class PrefixedStreamTests
{
    private static byte[] Bytes(int count, int seed) => [.. Enumerable.Range(0, count).Select(i => (byte)(i * 7 + seed))];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(4096)]
    public async Task Reads_return_the_prefix_then_the_inner_stream(int readSize)
    {
        var prefix = Bytes(101, 1);
        var rest = Bytes(300, 2);
        var pool = new CountingPool();
        var rented = pool.Rent(prefix.Length);
        prefix.CopyTo(rented, 0);
        var inner = new MemoryStream(rest);
        await using var stream = new PrefixedStream(inner, rented, prefix.Length, pool);

        var read = new List<byte>();
        var buffer = new byte[readSize];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
            read.AddRange(buffer[..n]);
        Assert.Equal([.. prefix, .. rest], read);
        Assert.Equal(1, pool.Returned); // as soon as the prefix was read, not on dispose
        await stream.DisposeAsync();
        Assert.Equal(1, pool.Returned);
        Assert.False(inner.CanRead); // disposed with the prefixed stream
    }

    [Fact]
    public void Sync_reads_zero_byte_reads_writes_and_an_empty_prefix()
    {
        var inner = new MemoryStream();
        inner.Write(Bytes(10, 3));
        inner.Position = 0;
        using var stream = new PrefixedStream(inner, [9, 8, 7, 0, 0], 3);
        Assert.Equal(0, stream.Read([])); // data is ready: the zero-byte read answers at once
        var buffer = new byte[64];
        Assert.Equal(2, stream.Read(buffer, 0, 2));
        Assert.Equal([9, 8], buffer[..2]);
        Assert.Equal(1, stream.Read(buffer, 0, 64)); // the prefix's last byte alone, never mixed with the inner stream's
        Assert.Equal(7, buffer[0]);
        Assert.Equal(10, stream.Read(buffer, 0, 64));
        Assert.Equal(Bytes(10, 3), buffer[..10]);

        stream.Write([1, 2, 3]);
        Assert.Equal([.. Bytes(10, 3), 1, 2, 3], inner.ToArray());

        using var empty = new PrefixedStream(new MemoryStream([5, 6]), [], 0);
        Assert.Equal(2, empty.Read(buffer, 0, 64));
    }

    [Fact]
    public void Disposing_before_the_prefix_is_read_returns_it_once()
    {
        var pool = new CountingPool();
        var stream = new PrefixedStream(new MemoryStream(), pool.Rent(16), 16, pool);
        stream.Dispose();
        stream.Dispose();
        Assert.Equal(1, pool.Returned);
    }

    private sealed class CountingPool : ArrayPool<byte>
    {
        public int Returned;

        public override byte[] Rent(int minimumLength) => new byte[minimumLength];

        public override void Return(byte[] array, bool clearArray = false) => Interlocked.Increment(ref Returned);
    }
}
