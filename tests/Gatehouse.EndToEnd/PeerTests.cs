using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

public sealed class PeerTests
{
    [Fact]
    public async Task Openssl_is_available_as_a_peer()
    {
        var result = await Peer.RunAsync("openssl", "version");
        result.EnsureSuccess("openssl version");
        Assert.StartsWith("OpenSSL", result.Stdout);
    }
}
