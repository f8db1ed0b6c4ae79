using System.Text;
using Gatehouse.Client.Dialing;

namespace Gatehouse.Client.Tests.Dialing;

/// <summary>The hand-written HTTP/1.1 upgrade answer parser, fed whole and in odd segments.</summary>
public sealed class UpgradeResponseReaderTests
{
    public static TheoryData<int> Segments => [int.MaxValue, 1, 3, 7, 100];

    private static Task<(UpgradeResponse? Response, string? Error)> Read(string text, int segment) =>
        UpgradeResponseReader.ReadAsync(new SegmentedStream(Encoding.Latin1.GetBytes(text), segment), CancellationToken.None).AsTask();

    [Theory]
    [MemberData(nameof(Segments))]
    public async Task A_101_with_Upgrade_is_accepted_and_keeps_what_followed(int segment)
    {
        var (response, error) = await Read("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: gatehouse-tls\r\n\r\n\x16\x03\x01", segment);
        Assert.Null(error);
        Assert.Equal(101, response!.Status);
        Assert.Null(TunnelOpener.CheckRaw(response));
        // Whatever arrived with the head in the same read is kept; the rest is read later from the stream itself.
        Assert.True(response.Leftover.Length <= 3);
    }

    [Theory]
    [MemberData(nameof(Segments))]
    public async Task A_101_with_only_X_Gatehouse_Upgrade_is_accepted(int segment)
    {
        var (response, _) = await Read("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nx-gatehouse-upgrade: gatehouse-tls\r\n\r\n", segment);
        Assert.Null(TunnelOpener.CheckRaw(response!));
    }

    [Fact]
    public async Task A_101_for_another_protocol_is_refused()
    {
        var (response, _) = await Read("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", int.MaxValue);
        Assert.Contains("Upgrade: 'websocket'", TunnelOpener.CheckRaw(response!));
    }

    [Theory]
    [MemberData(nameof(Segments))]
    public async Task A_400_reports_status_and_body(int segment)
    {
        const string body = "Upgrades are not allowed on this listener";
        var (response, error) = await Read($"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n{body}", segment);
        Assert.Null(error);
        Assert.Equal(body, response!.Body);
        Assert.Equal("the balancer answered 400 Bad Request: it does not pass raw (Upgrade: gatehouse-tls) upgrades on /v1/tunnel " +
                     $"(body: {body})", TunnelOpener.CheckRaw(response));
    }

    [Fact]
    public async Task A_long_body_is_cut_at_200_characters_and_one_without_length_is_read_to_the_end()
    {
        var (response, _) = await Read($"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 1000\r\n\r\n{new string('x', 1000)}", 5);
        Assert.Equal(new string('x', 200) + "…", response!.Body);
        (response, _) = await Read("HTTP/1.0 403 Forbidden\r\n\r\n<html>\r\nno\r\n</html>", 4);
        Assert.Equal("<html> no </html>", response!.Body);
    }

    [Theory]
    [MemberData(nameof(Segments))]
    public async Task A_chunked_body_is_decoded(int segment)
    {
        var (response, _) = await Read("HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n", segment);
        Assert.Equal("hello world", response!.Body);
    }

    [Theory]
    [MemberData(nameof(Segments))]
    public async Task A_header_block_over_16_KiB_is_refused(int segment)
    {
        if (segment == 1) segment = 512; // one byte at a time over 16 KiB only makes the test slow
        var (response, error) = await Read("HTTP/1.1 101 Switching Protocols\r\n" + string.Concat(Enumerable.Repeat("X-Filler: " + new string('a', 90) + "\r\n", 200)) + "\r\n", segment);
        Assert.Null(response);
        Assert.Contains("larger than 16 KiB", error);
    }

    [Theory]
    [InlineData("", "closed without an answer")]
    [InlineData("HTTP/1.1 101 Swi", "closed inside the answer's header block")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: gatehouse-tls\r\n", "closed inside the answer's header block")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n\r\n", "not HTTP/1.x")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nno colon here\r\n\r\n", "malformed header line")]
    public async Task A_cut_short_or_foreign_answer_is_an_error(string text, string expected)
    {
        foreach (var segment in new[] { int.MaxValue, 1, 5 })
        {
            var (response, error) = await Read(text, segment);
            Assert.Null(response);
            Assert.Contains(expected, error);
        }
    }

    /// <summary>Returns at most <c>segment</c> bytes per read, as a slow network would.</summary>
    private sealed class SegmentedStream(byte[] data, int segment) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, segment)], cancellationToken);
    }
}
