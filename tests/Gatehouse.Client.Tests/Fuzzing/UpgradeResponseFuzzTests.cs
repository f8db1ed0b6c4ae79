using System.Text;
using Gatehouse.Client.Dialing;
using Gatehouse.Testing.Fuzzing;
using Xunit.Abstractions;

namespace Gatehouse.Client.Tests.Fuzzing;

/// <summary>
/// The answer to a tunnel's upgrade request, as the client reads it off whatever balancer is in front: a 101 for
/// WebSocket or the raw gatehouse-tls upgrade (with bytes of the tunnel right behind it), or a refusal with a body,
/// chunked or not. Seeds are heads as Kestrel, nginx and an ALB write them. The reader gives a response or an error
/// sentence, never an exception, and keeps no more than its bounds.
/// </summary>
public sealed class UpgradeResponseFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Seeds =
    [
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nDate: Sat, 05 Dec 2026 07:00:00 GMT\r\nServer: Kestrel\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: gatehouse-tls-ping\r\n\r\n\x82\x7e\x00\x05hello",
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: gatehouse-tls\r\nX-Gatehouse-Upgrade: gatehouse-tls\r\n\r\n\x16\x03\x03\x00\x02\x02\x00",
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1c\r\n{\"error\":\"access denied\"}   \r\n0\r\n\r\n",
        "HTTP/1.1 502 Bad Gateway\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: 157\r\nConnection: keep-alive\r\n\r\n" +
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n",
        "HTTP/1.1 400 Bad Request\r\nServer: awselb/2.0\r\nContent-Type: text/html\r\nContent-Length: 122\r\n\r\n<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n</body>\r\n</html>\r\n",
    ];

    [Fact]
    public void Upgrade_response()
    {
        var target = new FuzzTarget("upgrade-response", [.. Seeds.Select(Encoding.Latin1.GetBytes)])
        {
            Tokens = Mutator.Tokens("\r\n", "\r\n\r\n", ": ", "HTTP/1.1 ", "101", "Transfer-Encoding: chunked\r\n", "Content-Length: ", "0\r\n", "ffffffff\r\n", ","),
            MemoryPerInputByte = 128,
        };
        Fuzz.Run(target, (input, random) =>
        {
            var (response, error) = UpgradeResponseReader.ReadAsync(new ChunkedReadStream(input, random), default).AsTask().GetAwaiter().GetResult();
            if ((response is null) == (error is null)) throw new InvalidOperationException("a response or an error, exactly one");
            if (response is null) return "refused";
            _ = (response.StatusLine, response.Header("upgrade"), response.HasToken("connection", "upgrade"));
            if (response.Leftover.Length > input.Length) throw new InvalidOperationException("more leftover than input");
            return response.Status == 101 ? "101" : "another status";
        }, output.WriteLine);
    }
}
