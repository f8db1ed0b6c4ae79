using System.Text;
using Gatehouse.Routing;
using static Gatehouse.Tests.Routing.ClientHellos;

namespace Gatehouse.Tests.Routing;

public sealed class ClientHelloParserTests(CapturedHellos captured) : IClassFixture<CapturedHellos>
{
    // A whole ClientHello, annotated: SNI "a.example", ALPN "h2".
    private static readonly byte[] Annotated =
    [
        0x16, 0x03, 0x01, 0x00, 0x4a,               // record: handshake, TLS 1.0 record version, 74 bytes
        0x01, 0x00, 0x00, 0x46,                     // handshake: client_hello, 70 bytes
        0x03, 0x03,                                 // legacy_version TLS 1.2
        .. Enumerable.Repeat((byte)0x11, 32),       // random
        0x00,                                       // legacy_session_id: empty
        0x00, 0x02, 0x13, 0x01,                     // cipher_suites: TLS_AES_128_GCM_SHA256
        0x01, 0x00,                                 // legacy_compression_methods: null
        0x00, 0x1b,                                 // extensions: 27 bytes
        0x00, 0x00, 0x00, 0x0e,                     //   server_name, 14 bytes
        0x00, 0x0c,                                 //     server_name_list: 12 bytes
        0x00, 0x00, 0x09,                           //       host_name, 9 bytes:
        (byte)'a', (byte)'.', (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e',
        0x00, 0x10, 0x00, 0x05,                     //   application_layer_protocol_negotiation, 5 bytes
        0x00, 0x03,                                 //     protocol_name_list: 3 bytes
        0x02, (byte)'h', (byte)'2',                 //       "h2"
    ];

    public static TheoryData<string, int> SourcesAndSegmentSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var source in new[] { "openssl", "dotnet" })
            foreach (var size in new[] { 0, 1, 3, 7, 13, 100 })
                data.Add(source, size);
        return data;
    }

    private static ClientHelloParse Parse(byte[] data, int segmentSize = 0, int maxBytes = ClientHelloParser.DefaultMaxBytes) =>
        ClientHelloParser.TryParse(Segmented(data, segmentSize), maxBytes);

    private static void AssertComplete(ClientHelloParse hello, string? serverName, string[] alpn, int consumed)
    {
        Assert.True(hello.Status == ClientHelloStatus.Complete, $"{hello.Status}: {hello.Error}");
        Assert.Equal(serverName, hello.ServerName);
        Assert.Equal(alpn, hello.Alpn);
        Assert.Equal(consumed, hello.ConsumedLength);
        Assert.Null(hello.Error);
    }

    [Theory]
    [MemberData(nameof(SourcesAndSegmentSizes))]
    public void Real_client_hellos_parse_whole_and_in_any_segmentation(string source, int segmentSize)
    {
        var (hello, name, alpn) = source == "openssl"
            ? (captured.OpenSsl, CapturedHellos.OpenSslName, CapturedHellos.OpenSslAlpn)
            : (captured.DotNet, CapturedHellos.DotNetName, CapturedHellos.DotNetAlpn);
        AssertComplete(Parse(hello, segmentSize), name, alpn, hello.Length);
        // Bytes after the ClientHello's record (early data, the next flight) are not part of it.
        AssertComplete(Parse([.. hello, 0x17, 0x03, 0x03, 0x00, 0x01, 0x00], segmentSize), name, alpn, hello.Length);
    }

    [Fact]
    public void Every_prefix_of_a_real_client_hello_needs_more_data()
    {
        foreach (var hello in new[] { captured.OpenSsl, captured.DotNet })
            for (var length = 0; length < hello.Length; length++)
            {
                var parse = Parse(hello[..length], length % 2 == 0 ? 0 : 1);
                Assert.True(parse.Status == ClientHelloStatus.NeedMoreData, $"at {length}: {parse.Status} {parse.Error}");
            }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public void Annotated_hello(int segmentSize) => AssertComplete(Parse(Annotated, segmentSize), "a.example", ["h2"], Annotated.Length);

    [Fact]
    public void No_sni_no_alpn_and_no_extensions_at_all()
    {
        var noSni = ClientHello(Alpn("h2"));
        AssertComplete(Parse(noSni), null, ["h2"], noSni.Length);
        var noAlpn = ClientHello(Sni("db.example"), Extension(43, [0x02, 0x03, 0x04]));
        AssertComplete(Parse(noAlpn), "db.example", [], noAlpn.Length);
        var bare = ClientHello();
        AssertComplete(Parse(bare), null, [], bare.Length);
    }

    [Fact]
    public void Alpn_keeps_the_clients_order_and_unknown_extensions_are_skipped()
    {
        var hello = ClientHello(Extension(0x0a0a, []), Alpn("http/1.1", "gatehouse-tcp-ping", "h2"), Sni("app.example"), Extension(21, new byte[300]));
        AssertComplete(Parse(hello, 7), "app.example", ["http/1.1", "gatehouse-tcp-ping", "h2"], hello.Length);
    }

    [Theory]
    [InlineData(1)]                // inside the handshake header
    [InlineData(3)]
    [InlineData(4)]                // right after it
    [InlineData(50)]
    [InlineData(80, 81, 82, 83)]   // several tiny records in the extensions
    public void A_client_hello_split_over_several_handshake_records(params int[] cuts)
    {
        var handshake = Handshake(Body(Sni("split.example"), Alpn("gatehouse-ssh", "h2")));
        var records = SplitIntoRecords(handshake, cuts);
        foreach (var size in new[] { 0, 1, 3, 7 })
            AssertComplete(Parse(records, size), "split.example", ["gatehouse-ssh", "h2"], records.Length);
        for (var length = 0; length < records.Length; length++)
            Assert.Equal(ClientHelloStatus.NeedMoreData, Parse(records[..length], 3).Status);
    }

    [Fact]
    public void Too_large()
    {
        // A 20 000-byte padding extension (21) cannot fit in 16 KiB, whatever the records.
        var handshake = Handshake(Body(Sni("big.example"), Extension(21, new byte[20_000])));
        var records = SplitIntoRecords(handshake, 16_000);
        Assert.Equal(ClientHelloStatus.TooLarge, Parse(records).Status);
        // The declared length alone decides, before the bytes arrive: 9 bytes say "a 1 MiB ClientHello".
        Assert.Equal(ClientHelloStatus.TooLarge, Parse([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x10, 0x00, 0x00]).Status);
        // A real hello against a small cap, and every prefix of it: never NeedMoreData past the cap.
        Assert.Equal(ClientHelloStatus.TooLarge, Parse(captured.DotNet, maxBytes: 100).Status);
        for (var length = 101; length < captured.DotNet.Length; length++)
            Assert.Equal(ClientHelloStatus.TooLarge, Parse(captured.DotNet[..length], maxBytes: 100).Status);
    }

    [Theory]
    [InlineData(new byte[] { 0x80 })]                                           // SSLv2-compatible: high bit set
    [InlineData(new byte[] { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15 })]
    [InlineData(new byte[] { 0x16, 0x02 })]                                     // handshake type, but no TLS version
    [InlineData(new byte[] { 0x16, 0x03, 0x05, 0x00, 0x10 })]
    [InlineData(new byte[] { 0x17, 0x03, 0x03, 0x00, 0x10 })]                   // application data first
    public void Not_tls(byte[] data)
    {
        var parse = Parse(data);
        Assert.Equal(ClientHelloStatus.NotTls, parse.Status);
        Assert.NotNull(parse.Error);
    }

    [Fact]
    public void Plain_http_is_not_tls_from_the_first_byte()
    {
        var http = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
        Assert.Equal(ClientHelloStatus.NotTls, Parse(http).Status);
        Assert.Equal(ClientHelloStatus.NotTls, Parse(http[..1]).Status);
    }

    public static TheoryData<string, string, byte[]> MalformedHellos() => new()
    {
        { "extension longer than the hello", "runs past", Patch(ClientHello(Sni("a.example")), ^16, 0x00, 0x40) },
        { "extensions block length wrong", "extensions length", Record(Handshake([.. Body(Alpn("h2"))[..^11], 0x00, 0x08, .. Alpn("h2")])) },
        { "duplicate SNI extension", "extension 0 appears twice", ClientHello(Sni("a.example"), Alpn("h2"), Sni("b.example")) },
        { "duplicate unknown extension", "extension 65281 appears twice", ClientHello(Extension(0xff01, [0x00]), Extension(0xff01, [0x00])) },
        { "two host names", "more than one host_name", ClientHello(Sni("a.example", "b.example")) },
        { "empty host name", "server_name entry", ClientHello(Sni("")) },
        { "host name with a trailing dot", "ends with a dot", ClientHello(Sni("a.example.")) },
        { "host name not ASCII", "printable ASCII", ClientHello(Sni("a\u00e9.example")) },
        { "empty server_name list", "server_name list length", ClientHello(Extension(0, [0x00, 0x00])) },
        { "empty ALPN name", "ALPN protocol name is empty", ClientHello(Alpn("h2", "")) },
        { "empty ALPN list", "ALPN list length", ClientHello(Extension(16, [0x00, 0x00])) },
        { "ALPN name past its list", "runs past the list", ClientHello(Extension(16, [0x00, 0x03, 0x05, (byte)'h', (byte)'2'])) },
        { "ALPN list shorter than its extension", "ALPN list length", ClientHello(Extension(16, [0x00, 0x03, 0x02, (byte)'h', (byte)'2', 0x00])) },
        { "session id over 32 bytes", "legacy_session_id", Record(Handshake([0x03, 0x03, .. new byte[32], 33, .. new byte[33], 0x00, 0x02, 0x13, 0x01, 0x01, 0x00])) },
        { "odd cipher suites length", "cipher_suites", Record(Handshake([0x03, 0x03, .. new byte[32], 0x00, 0x00, 0x03, 0x13, 0x01, 0x00, 0x01, 0x00])) },
        { "no compression methods", "compression", Record(Handshake([0x03, 0x03, .. new byte[32], 0x00, 0x00, 0x02, 0x13, 0x01, 0x00])) },
        { "too short for the random", "too short", Record(Handshake([0x03, 0x03, 0x00])) },
        { "a ServerHello", "not a ClientHello", Record(Handshake(Body(), type: 2)) },
        { "an empty record", "record of 0 bytes", [.. Record([]), .. ClientHello()] },
        { "an alert between the records", "type 21", [.. Record(Handshake(Body())[..10]), .. Record([0x02, 0x28], type: 21), .. Record(Handshake(Body())[10..])] },
        { "bytes after the hello in its record", "bytes follow", Record([.. Handshake(Body()), 0x14, 0x00, 0x00, 0x00]) },
    };

    private static byte[] Patch(byte[] data, Index at, params byte[] bytes)
    {
        var copy = data.ToArray();
        bytes.CopyTo(copy, at.GetOffset(copy.Length));
        return copy;
    }

    [Theory]
    [MemberData(nameof(MalformedHellos))]
    public void Malformed(string why, string error, byte[] data)
    {
        foreach (var size in new[] { 0, 1 })
        {
            var parse = Parse(data, size);
            Assert.True(parse.Status == ClientHelloStatus.Malformed, $"{why}: {parse.Status}");
            Assert.Contains(error, parse.Error);
        }
    }

    [Fact]
    public void Random_mutations_of_real_hellos_never_throw_and_do_not_depend_on_segmentation()
    {
        var random = new Random(20_260_101);
        var statuses = new Dictionary<ClientHelloStatus, int>();
        for (var i = 0; i < 2000; i++)
        {
            var data = new List<byte>(i % 2 == 0 ? captured.DotNet : captured.OpenSsl);
            for (var m = random.Next(1, 5); m > 0 && data.Count > 0; m--)
            {
                var at = random.Next(data.Count);
                switch (random.Next(6))
                {
                    case 0: data[at] = (byte)random.Next(256); break;
                    case 1: data[at] = random.Next(2) == 0 ? (byte)0x00 : (byte)0xff; break;
                    case 2: data.RemoveRange(at, data.Count - at); break;
                    case 3: data.InsertRange(at, Enumerable.Range(0, random.Next(1, 9)).Select(_ => (byte)random.Next(256))); break;
                    case 4: data.RemoveRange(at, Math.Min(random.Next(1, 9), data.Count - at)); break;
                    default: data[at] ^= (byte)(1 << random.Next(8)); break;
                }
            }
            var bytes = data.ToArray();
            var whole = Parse(bytes);
            var segmented = Parse(bytes, random.Next(1, 18), ClientHelloParser.DefaultMaxBytes);
            Assert.Equal(whole, segmented with { Alpn = whole.Alpn });
            Assert.Equal(whole.Alpn, segmented.Alpn);
            if (whole.Status == ClientHelloStatus.Complete) Assert.InRange(whole.ConsumedLength, 1, bytes.Length);
            statuses[whole.Status] = statuses.GetValueOrDefault(whole.Status) + 1;
        }
        // The mutations reach past the record layer: some hellos still parse, some are malformed, some cut short.
        Assert.True(statuses.GetValueOrDefault(ClientHelloStatus.Malformed) > 0, string.Join(", ", statuses));
        Assert.True(statuses.GetValueOrDefault(ClientHelloStatus.NeedMoreData) > 0, string.Join(", ", statuses));
    }
}
